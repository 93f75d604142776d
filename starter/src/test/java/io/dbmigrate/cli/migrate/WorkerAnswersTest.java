package io.dbmigrate.cli.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With no worker polling the task queue (killed, or never started), status and approve answer within seconds and
 * say so, instead of hanging as a plain query or update does; approve then sends nothing.
 */
class WorkerAnswersTest {
    private TestWorkflowEnvironment env;
    private WorkflowClient client;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        env.start(); // no worker on the task queue
        client = env.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private String startWithoutWorker(String id) {
        MigrationPlan plan = new MigrationPlan(id, new Endpoint("s", 5432, "db", "u", "env:X"),
                new Endpoint("t", 5432, "db", "u", "env:Y"), List.of("public"), null, null, "manual", null, null, null);
        return MigrationCommands.startMigration(client, plan);
    }

    @Test
    void statusWithNoWorkerAnswersWithinSecondsAndSaysWhy() {
        String wf = startWithoutWorker("orphan");
        long t0 = System.nanoTime();
        WorkerAnswers.NoWorkerAnswer e = assertThrows(WorkerAnswers.NoWorkerAnswer.class,
                () -> WorkerAnswers.status(client, wf, Duration.ofSeconds(2)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 6_000, "answered after " + ms + " ms");
        assertTrue(e.getMessage().contains("no worker answered the status query of migration-orphan within 2 s"), e.getMessage());
        assertTrue(e.getMessage().contains("task queue '" + MigrationWorkflow.TASK_QUEUE + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("workflow RUNNING"), e.getMessage());
        assertTrue(e.getMessage().contains("./dbmigrate stack up"), e.getMessage());
    }

    @Test
    void approveWithNoWorkerIsRefusedAtOnceAndSendsNothing() {
        String wf = startWithoutWorker("orphan2");
        long t0 = System.nanoTime();
        WorkerAnswers.NoWorkerAnswer e = assertThrows(WorkerAnswers.NoWorkerAnswer.class,
                () -> MigrationCommands.approve(client, wf, "alice", Duration.ofSeconds(5)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 10_000, "answered after " + ms + " ms");
        assertTrue(e.getMessage().startsWith("approval not sent: no worker answered"), e.getMessage());
        long updates = client.fetchHistory(wf).getEvents().stream()
                .filter(ev -> ev.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED
                        || ev.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).count();
        assertEquals(0, updates, "no update reached the workflow");
    }
}
