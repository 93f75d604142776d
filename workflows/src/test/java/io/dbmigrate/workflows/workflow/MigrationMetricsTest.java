package io.dbmigrate.workflows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The workflow's own metrics, read as the worker exports them (the SDK's Micrometer reporter), after real runs. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MigrationMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Scope scope;
    private TestWorkflowEnvironment testEnv;
    private FakeActivities fakes;

    @BeforeEach
    void setUp() {
        scope = new RootScopeBuilder().reporter(new MicrometerClientStatsReporter(registry))
                .reportEvery(com.uber.m3.util.Duration.ofMillis(10));
        testEnv = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder().setMetricsScope(scope).build());
        Worker worker = testEnv.newWorker(MigrationWorkflow.TASK_QUEUE, MigrationWorkflowTest.workerOptions());
        worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
        fakes = new FakeActivities();
        worker.registerActivitiesImplementations(fakes);
        testEnv.start();
    }

    @AfterEach
    void tearDown() {
        testEnv.close();
    }

    private MigrationStatus run(MigrationPlan plan) throws Exception {
        MigrationStatus s = testEnv.getWorkflowClient().newWorkflowStub(MigrationWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId("migration-" + plan.migrationId()).setTaskQueue(MigrationWorkflow.TASK_QUEUE).build()).migrate(plan);
        scope.close(); // reports what is pending
        return s;
    }

    private Double gauge(String name, String migration, String... tags) {
        Gauge g = registry.find(name).tag("migration_id", migration).tags(tags).gauge();
        return g == null ? null : g.value();
    }

    @Test
    void aCompletedMigrationEndsInPhaseDoneWithItsPauseAndThresholds() throws Exception {
        MigrationStatus s = run(MigrationWorkflowTest.plan("metrics_ok", "auto", null));
        assertEquals(State.COMPLETED, s.state(), s::error);

        assertEquals(1.0, gauge(MigrationMetrics.PHASE, "metrics_ok", "phase", "done"));
        for (String left : new String[] {"preflight", "snapshot", "approval", "cutover", "cleanup"}) {
            assertEquals(0.0, gauge(MigrationMetrics.PHASE, "metrics_ok", "phase", left), left);
        }
        Double started = gauge(MigrationMetrics.PHASE_STARTED, "metrics_ok");
        assertNotNull(started);
        assertEquals(s.timings().get(s.timings().size() - 1).startedAtMs() / 1000.0, started, 0.001);
        assertEquals(5.0, gauge(MigrationMetrics.MAX_LAG_SECONDS, "metrics_ok"));
        assertEquals(s.cutover().writePauseMs() / 1000.0, gauge(MigrationMetrics.WRITE_PAUSE, "metrics_ok"), 0.001);
        assertEquals(0.0, gauge(MigrationMetrics.MISMATCHED_TABLES, "metrics_ok"));
        assertEquals(0.0, gauge(MigrationMetrics.FAILED, "metrics_ok"));
        assertNull(registry.find(MigrationMetrics.ROLLBACKS).counter(), "no rollback, no count");
    }

    @Test
    void aValidationDifferenceCountsItsTableAndTheRollback() throws Exception {
        fakes.liveValidationDiffers = true;
        MigrationStatus s = run(MigrationWorkflowTest.plan("metrics_differs", "auto", null));
        assertEquals(State.ROLLED_BACK, s.state());

        assertEquals(1.0, gauge(MigrationMetrics.MISMATCHED_TABLES, "metrics_differs"));
        Counter rollbacks = registry.find(MigrationMetrics.ROLLBACKS).tag("migration_id", "metrics_differs").counter();
        assertNotNull(rollbacks);
        assertEquals(1.0, rollbacks.count());
        assertEquals(0.0, gauge(MigrationMetrics.FAILED, "metrics_differs"));
        assertEquals(1.0, gauge(MigrationMetrics.PHASE, "metrics_differs", "phase", "done"));
        assertNull(gauge(MigrationMetrics.WRITE_PAUSE, "metrics_differs"), "never paused");
    }

    @Test
    void anIncompleteRollbackRaisesTheFailedGauge() throws Exception {
        fakes.teardownFails = true;
        MigrationStatus s = run(MigrationWorkflowTest.plan("metrics_undo", "auto", "snapshot"));
        assertEquals(State.FAILED, s.state());
        assertEquals(1.0, gauge(MigrationMetrics.FAILED, "metrics_undo"));
        assertTrue(registry.find(MigrationMetrics.ROLLBACKS).counter().count() >= 1);
    }
}
