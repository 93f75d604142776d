package io.dbmigrate.workflows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * MigrationPhase follows the phases in executions the starter gave dbmigrate's search attributes (a server where
 * they are registered), and nothing is upserted in executions without them, so servers lacking them keep working.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MigrationSearchAttributesTest {
    private TestWorkflowEnvironment testEnv;
    private FakeActivities fakes;

    private WorkflowClient start(boolean registered) {
        testEnv = TestWorkflowEnvironment.newInstance();
        if (registered) {
            SearchAttributes.ALL.forEach(k ->
                    testEnv.registerSearchAttribute(k.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD));
        }
        Worker worker = testEnv.newWorker(MigrationWorkflow.TASK_QUEUE, MigrationWorkflowTest.workerOptions());
        worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
        fakes = new FakeActivities();
        worker.registerActivitiesImplementations(fakes);
        testEnv.start();
        return testEnv.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        testEnv.close();
    }

    private static MigrationWorkflow stub(WorkflowClient client, MigrationPlan plan, boolean withAttributes) {
        WorkflowOptions.Builder b = WorkflowOptions.newBuilder().setWorkflowId(plan.workflowId())
                .setTaskQueue(MigrationWorkflow.TASK_QUEUE);
        if (withAttributes) {
            b.setTypedSearchAttributes(SearchAttributes.atStart(plan));
        }
        return client.newWorkflowStub(MigrationWorkflow.class, b.build());
    }

    /** MigrationPhase values upserted, in history order. */
    static List<String> upsertedPhases(WorkflowExecutionHistory history) {
        List<String> phases = new ArrayList<>();
        for (HistoryEvent e : history.getEvents()) {
            if (e.getEventType() == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
                var fields = e.getUpsertWorkflowSearchAttributesEventAttributes().getSearchAttributes().getIndexedFieldsMap();
                var p = fields.get(SearchAttributes.MIGRATION_PHASE.getName());
                if (p != null) {
                    phases.add(DefaultDataConverter.STANDARD_INSTANCE.fromPayload(p, String.class, String.class));
                }
            }
        }
        return phases;
    }

    static boolean hasVersionMarker(WorkflowExecutionHistory history) {
        return history.getEvents().stream().anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED
                && e.getMarkerRecordedEventAttributes().getDetailsMap().toString().contains(MigrationContext.PHASE_SEARCH_ATTRIBUTE));
    }

    private String describedPhase(WorkflowClient client, MigrationPlan plan) {
        return client.newUntypedWorkflowStub(plan.workflowId()).describe().getTypedSearchAttributes()
                .get(SearchAttributes.MIGRATION_PHASE);
    }

    @Test
    void withTheAttributesEachPhaseChangeUpsertsMigrationPhase() throws Exception {
        WorkflowClient client = start(true);
        MigrationPlan plan = MigrationWorkflowTest.plan("searchable", "manual", null);
        MigrationWorkflow wf = stub(client, plan, true);
        WorkflowClient.start(wf::migrate, plan);

        // what `temporal workflow list --query 'MigrationPhase="approval"'` finds on a real server
        long deadline = System.currentTimeMillis() + 15_000;
        while (!"approval".equals(describedPhase(client, plan))) {
            if (System.currentTimeMillis() > deadline) {
                fail("MigrationPhase never became approval; it is " + describedPhase(client, plan) + "; calls " + fakes.calls);
            }
            testEnv.sleep(Duration.ofMillis(50));
        }
        var attributes = client.newUntypedWorkflowStub(plan.workflowId()).describe().getTypedSearchAttributes();
        assertEquals(plan.migrationId(), attributes.get(SearchAttributes.MIGRATION_ID));
        assertEquals("source.db.internal", attributes.get(SearchAttributes.SOURCE_HOST));
        assertEquals("target.db.internal", attributes.get(SearchAttributes.TARGET_HOST));

        fakes.lag = FakeActivities.lag(10, 1.0);
        assertEquals("cutover approved by alice", wf.approveCutover("alice"));
        MigrationStatus s = WorkflowStub.fromTyped(wf).getResult(30, TimeUnit.SECONDS, MigrationStatus.class);
        assertEquals(State.COMPLETED, s.state(), () -> "error: " + s.error());
        assertEquals("done", describedPhase(client, plan));

        WorkflowExecutionHistory history = client.fetchHistory(plan.workflowId());
        assertEquals(List.of("preflight", "prepare", "snapshot", "validation", "approval", "cutover", "cleanup", "done"),
                upsertedPhases(history));
        assertTrue(hasVersionMarker(history));
        String recordTo = System.getProperty("dbmigrate.recordHistory");
        if (recordTo != null) { // how histories/migration-search-attributes-manual.json was recorded
            Files.writeString(Path.of(recordTo), history.toJson(true));
        }
        Replays.replay(history);
    }

    /** A server without dbmigrate's search attributes: the starter sets none, the workflow upserts none. */
    @Test
    void withoutTheAttributesNothingIsUpsertedAndTheMigrationCompletes() throws Exception {
        WorkflowClient client = start(false);
        MigrationPlan plan = MigrationWorkflowTest.plan("plain", "auto", null);
        MigrationStatus s = stub(client, plan, false).migrate(plan);
        assertEquals(State.COMPLETED, s.state(), () -> "error: " + s.error());
        WorkflowExecutionHistory history = client.fetchHistory(plan.workflowId());
        assertEquals(List.of(), upsertedPhases(history));
        assertFalse(hasVersionMarker(history), "no version marker: older histories, which never had the attributes, replay as before");
        Replays.replay(history);
    }
}
