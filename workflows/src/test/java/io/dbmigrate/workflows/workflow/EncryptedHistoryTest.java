package io.dbmigrate.workflows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.codec.CodecKeys;
import io.dbmigrate.workflows.codec.Codecs;
import io.dbmigrate.workflows.codec.EncryptionCodec;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A migration run with the codec on worker and client: its raw history holds none of the plan's or the error's text. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EncryptedHistoryTest {

    @Test
    void rawHistoryHasNoPlanOrErrorTextAndDecodesBackWithTheKey() {
        CodecKeys keys = CodecKeys.parse(CodecKeys.generate(), "test");
        WorkflowClientOptions options = Codecs.install(WorkflowClientOptions.newBuilder(), Optional.of(keys)).build();
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(
                TestEnvironmentOptions.newBuilder().setWorkflowClientOptions(options).build())) {
            Worker worker = env.newWorker(MigrationWorkflow.TASK_QUEUE, MigrationWorkflowTest.workerOptions());
            worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
            FakeActivities fakes = new FakeActivities();
            fakes.caughtUp = false;
            fakes.applierFails = true; // an ApplyDataError whose message names a row
            worker.registerActivitiesImplementations(fakes);
            env.start();

            MigrationPlan plan = MigrationWorkflowTest.plan("sealed", "auto", null);
            MigrationStatus s = env.getWorkflowClient().newWorkflowStub(MigrationWorkflow.class, WorkflowOptions.newBuilder()
                    .setWorkflowId(plan.workflowId()).setTaskQueue(MigrationWorkflow.TASK_QUEUE).build()).migrate(plan);
            assertEquals("snapshot failed: " + FakeActivities.APPLY_ERROR, s.error(), "the workflow sees the decoded failure");

            // a client without the codec sees what the server stores
            WorkflowClient raw = WorkflowClient.newInstance(env.getWorkflowServiceStubs(),
                    WorkflowClientOptions.newBuilder().setNamespace(env.getNamespace()).build());
            WorkflowExecutionHistory history = raw.fetchHistory(plan.workflowId());
            // proto text shows payload bytes as (escaped) text; JSON would show them as base64 and hide everything anyway
            String rawJson = history.toProtoText(true);
            List<String> secrets = List.of("source.db.internal", "target.db.internal", "env:SOURCE_PASSWORD",
                    "env:TARGET_PASSWORD", "orders_pkey", "id=42");
            for (String secret : secrets) {
                assertFalse(rawJson.contains(secret), secret + " is in the raw history");
            }
            assertTrue(rawJson.contains("Encoded failure"), "failure messages are encoded too");

            String decoded = new WorkflowExecutionHistory(Codecs.decode(history.getHistory(), new EncryptionCodec(keys)),
                    plan.workflowId()).toProtoText(true);
            for (String secret : secrets) {
                assertTrue(decoded.contains(secret), secret + " is not in the decoded history");
            }
            assertFalse(decoded.contains(EncryptionCodec.ENCODING));
            assertFalse(decoded.contains("Encoded failure"));
        }
    }
}
