package io.dbmigrate.workflows.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.dbmigrate.workflows.model.PhaseTiming;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The migration workflow against in-memory activities on Temporal's time-skipping test server. The applier runs
 * (heartbeating) for the whole migration, which holds the test server's clock to real time; the fakes are quick.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MigrationWorkflowTest {
    private static final long MAX_LAG_BYTES = 1024 * 1024;
    private static final List<String> APPLIER_SAGA = List.of("StopApplier", "TeardownCapture", "CleanupTarget", "DropCreatedTargetTables");

    private TestWorkflowEnvironment testEnv;
    private WorkflowClient client;
    private FakeActivities fakes;

    @BeforeEach
    void setUp() {
        testEnv = TestWorkflowEnvironment.newInstance();
        // the SDK sends at most one heartbeat per throttle interval; cancellation is only seen in a heartbeat's reply
        Worker worker = testEnv.newWorker(MigrationWorkflow.TASK_QUEUE, WorkerOptions.newBuilder()
                .setMaxHeartbeatThrottleInterval(Duration.ofMillis(20)).build());
        worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
        fakes = new FakeActivities();
        worker.registerActivitiesImplementations(fakes);
        testEnv.start();
        client = testEnv.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        testEnv.close();
    }

    static MigrationPlan plan(String id, String approval, String faultInjection) {
        return new MigrationPlan(id,
                new Endpoint("source.db.internal", 5432, "shop", "migrator", "env:SOURCE_PASSWORD"),
                new Endpoint("target.db.internal", 5433, "shop", "migrator", "env:TARGET_PASSWORD"),
                List.of("public"), null, new MigrationPlan.Thresholds(5.0, MAX_LAG_BYTES, 1_000), approval, null,
                faultInjection, null);
    }

    private MigrationWorkflow stub(MigrationPlan plan) {
        return client.newWorkflowStub(MigrationWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId("migration-" + plan.migrationId()).setTaskQueue(MigrationWorkflow.TASK_QUEUE).build());
    }

    private static MigrationStatus result(MigrationWorkflow wf) {
        try {
            return WorkflowStub.fromTyped(wf).getResult(30, TimeUnit.SECONDS, MigrationStatus.class);
        } catch (TimeoutException e) {
            return fail("the workflow did not finish", e);
        }
    }

    /** Polls the status query, advancing the test server's time between polls. */
    private MigrationStatus awaitStatus(MigrationWorkflow wf, String what, Predicate<MigrationStatus> condition) {
        long deadline = System.currentTimeMillis() + 15_000;
        MigrationStatus last = null;
        while (System.currentTimeMillis() < deadline) {
            last = wf.status();
            if (last != null && condition.test(last)) {
                return last;
            }
            testEnv.sleep(Duration.ofMillis(50));
        }
        return fail("timed out waiting for " + what + "; last status: " + last + "; calls: " + fakes.calls);
    }

    /** The recorded history replays against the current workflow code without non-determinism. */
    private void assertReplays(MigrationPlan plan) {
        try {
            WorkflowReplayer.replayWorkflowExecution(client.fetchHistory(plan.workflowId()), MigrationWorkflowImpl.class);
        } catch (Exception e) {
            fail("replay of " + plan.workflowId() + " failed", e);
        }
    }

    /** Every message along the cause chain, so assertions do not depend on how the SDK wraps a rejection. */
    private static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getMessage()).append(" | ");
            if (c instanceof ApplicationFailure af) {
                b.append(af.getOriginalMessage()).append(" | ");
            }
        }
        return b.toString();
    }

    private static void assertRejected(MigrationWorkflow wf, String approver, String reason) {
        WorkflowUpdateException e = assertThrows(WorkflowUpdateException.class, () -> wf.approveCutover(approver));
        assertTrue(messages(e).contains(reason), () -> "expected the rejection to say '" + reason + "': " + messages(e));
    }

    // --- happy path

    @Test
    void autoApprovalRunsEveryPhaseInOrderAndCleansUp() {
        MigrationPlan plan = plan("happy", "auto", null);
        MigrationStatus s = stub(plan).migrate(plan);

        assertEquals(State.COMPLETED, s.state(), () -> "error: " + s.error());
        assertEquals(Phase.DONE, s.phase());
        assertEquals("auto", s.approvedBy());
        assertNull(s.error());
        assertEquals(List.of(), s.compensations());
        assertEquals(FakeActivities.TABLES, s.tables());
        assertEquals(List.of("Preflight", "PrepareTargetSchema", "PrepareCapture", "RunApplier", "AwaitCatchUp",
                "StreamLag", "ValidateData(frozen=false)", "FenceSourceWrites", "DrainStream", "SyncSequences",
                "ValidateData(frozen=true)", "RunApplier(cancelled)", "TeardownCapture", "UnfenceSourceWrites",
                "CleanupTarget"), fakes.calls);
        assertEquals(0, fakes.count("DropCreatedTargetTables"));

        List<String> phases = s.timings().stream().map(PhaseTiming::phase).toList();
        assertEquals(List.of("preflight", "prepare", "snapshot", "validation", "approval", "cutover", "cleanup", "done"),
                phases);
        for (PhaseTiming t : s.timings()) {
            assertNotNull(t.endedAtMs(), () -> t.phase() + " has no end");
            assertTrue(t.endedAtMs() >= t.startedAtMs(), () -> t.phase() + " ends before it starts");
        }
        for (int i = 1; i < s.timings().size(); i++) {
            assertEquals(s.timings().get(i - 1).endedAtMs(), s.timings().get(i).startedAtMs());
        }

        assertNotNull(s.cutover());
        assertEquals("0/3000100", s.cutover().fenceLsn());
        assertEquals("0/3000100", s.cutover().drainedLsn());
        assertEquals(List.of("public.orders_id_seq -> 1043"), s.cutover().sequences());
        assertTrue(s.cutover().finalValidation().frozen());
        assertTrue(s.cutover().finalValidation().passed());
        assertTrue(s.validation().frozen());
        assertReplays(plan);
    }

    // --- rollback rehearsal per phase

    static Stream<Arguments> faults() {
        return Stream.of(
                Arguments.of("preflight", List.of()),
                Arguments.of("prepare", APPLIER_SAGA),
                Arguments.of("snapshot", APPLIER_SAGA),
                Arguments.of("validation", APPLIER_SAGA),
                Arguments.of("cutover", List.of("UnfenceSourceWrites", "StopApplier", "TeardownCapture",
                        "CleanupTarget", "DropCreatedTargetTables")));
    }

    @ParameterizedTest(name = "fault at the end of {0}")
    @MethodSource("faults")
    void injectedFaultRollsBackEveryRegisteredStepOnceNewestFirst(String phase, List<String> compensations) {
        MigrationPlan plan = plan("fault_" + phase, "auto", phase);
        MigrationStatus s = stub(plan).migrate(plan);

        assertEquals(State.ROLLED_BACK, s.state(), () -> "error: " + s.error());
        assertEquals(compensations, s.compensations());
        assertTrue(s.error().startsWith(phase + " failed: injected failure at the end of phase " + phase), s.error());
        assertNull(s.cutover());
        assertEquals(phase.equals("cutover") ? "auto" : null, s.approvedBy());

        boolean prepared = !phase.equals("preflight");
        assertEquals(1, fakes.count("InjectFault"), "a non-retryable fault is not retried");
        assertEquals(prepared ? 1 : 0, fakes.count("DropCreatedTargetTables"));
        assertEquals(prepared ? List.of(FakeActivities.CREATED) : List.of(), fakes.dropped);
        assertEquals(prepared ? 1 : 0, fakes.count("TeardownCapture"));
        assertEquals(prepared ? 1 : 0, fakes.count("CleanupTarget"));
        // at the end of prepare the fault and the applier start together: the applier may be cancelled before it ran
        long applierRuns = phase.equals("prepare") ? fakes.count("RunApplier") : 1;
        assertEquals(prepared ? applierRuns : 0, fakes.count("RunApplier"));
        assertEquals(prepared ? applierRuns : 0, fakes.count("RunApplier(cancelled)"), "StopApplier cancels the applier");
        assertEquals(phase.equals("cutover") ? 1 : 0, fakes.count("UnfenceSourceWrites"));

        // the undo calls happen after the fault, newest first (StopApplier shows as the applier's cancellation)
        List<String> undo = new ArrayList<>(fakes.calls.subList(fakes.calls.indexOf("InjectFault") + 1, fakes.calls.size()));
        undo.remove("RunApplier"); // only in the prepare race above
        List<String> expected = compensations.stream().filter(c -> applierRuns > 0 || !c.equals("StopApplier"))
                .map(c -> c.equals("StopApplier") ? "RunApplier(cancelled)" : c).toList();
        assertEquals(expected, undo);

        List<String> phases = s.timings().stream().map(PhaseTiming::phase).toList();
        assertEquals(phase, phases.get(phases.size() - 2));
        assertEquals("done", phases.get(phases.size() - 1));
        assertReplays(plan);
    }

    // --- manual approval

    @Test
    void manualApprovalIsRejectedUntilWaitingAndLagIsUnderThreshold() {
        fakes.caughtUp = false; // hold the migration in the snapshot phase
        MigrationPlan plan = plan("manual", "manual", null);
        MigrationWorkflow wf = stub(plan);
        WorkflowClient.start(wf::migrate, plan);

        awaitStatus(wf, "snapshot phase", s -> s.phase() == Phase.SNAPSHOT && fakes.calls.contains("AwaitCatchUp"));
        assertRejected(wf, "alice", "not waiting for approval (phase snapshot)");
        wf.approve("mallory"); // the signal form is ignored while not ready
        assertNull(wf.status().approvedBy());

        fakes.caughtUp = true;
        MigrationStatus waiting = awaitStatus(wf, "awaiting approval", s -> s.state() == State.AWAITING_APPROVAL);
        assertEquals(Phase.APPROVAL, waiting.phase());
        assertTrue(waiting.validation().passed());
        assertNull(waiting.approvedBy());

        long high = MAX_LAG_BYTES + 1;
        wf.lagReport(FakeActivities.lag(high, 1.0));
        awaitStatus(wf, "high lag recorded", s -> s.lag() != null && s.lag().bytes() == high);
        assertRejected(wf, "alice", "above thresholds.maxLagBytes");
        wf.lagReport(FakeActivities.lag(100, 30.0));
        awaitStatus(wf, "old lag recorded", s -> s.lag() != null && s.lag().secondsSinceLastApplied() == 30.0);
        assertRejected(wf, "alice", "above thresholds.maxLagSeconds");
        MigrationStatus stillWaiting = wf.status();
        assertEquals(State.AWAITING_APPROVAL, stillWaiting.state());
        assertNull(stillWaiting.approvedBy(), "a rejected update records nothing");
        assertEquals(0, fakes.count("FenceSourceWrites"));

        wf.lagReport(FakeActivities.lag(2048, 1.0));
        awaitStatus(wf, "low lag recorded", s -> s.lag() != null && s.lag().bytes() == 2048);
        assertEquals("cutover approved by alice", wf.approveCutover("alice"));

        MigrationStatus s = result(wf);
        assertEquals(State.COMPLETED, s.state(), () -> "error: " + s.error());
        assertEquals("alice", s.approvedBy());
        assertEquals(List.of(), s.compensations());
        assertEquals(1, fakes.count("WatchStream"));
        assertEquals(1, fakes.count("FenceSourceWrites"));
        assertEquals(1, fakes.count("CleanupTarget"));
        assertTrue(fakes.calls.indexOf("WatchStream") < fakes.calls.indexOf("FenceSourceWrites"));
        assertReplays(plan);
    }

    // --- abort

    @Test
    void abortWhileAwaitingApprovalRollsBack() {
        MigrationPlan plan = plan("abort_me", "manual", null);
        MigrationWorkflow wf = stub(plan);
        WorkflowClient.start(wf::migrate, plan);
        awaitStatus(wf, "awaiting approval", s -> s.state() == State.AWAITING_APPROVAL);

        wf.abort("test");
        MigrationStatus s = result(wf);

        assertEquals(State.ROLLED_BACK, s.state(), () -> "error: " + s.error());
        assertTrue(s.error().startsWith("aborted: test"), s.error());
        assertEquals(APPLIER_SAGA, s.compensations());
        assertNull(s.approvedBy());
        assertEquals(1, fakes.count("RunApplier(cancelled)"));
        assertEquals(1, fakes.count("TeardownCapture"));
        assertEquals(1, fakes.count("DropCreatedTargetTables"));
        assertEquals(0, fakes.count("FenceSourceWrites"));
        assertEquals(0, fakes.count("UnfenceSourceWrites"));
        assertEquals(1, fakes.count("CleanupTarget"), "the target control schema is an undo too");
        assertReplays(plan);
    }

    @Test
    void abortDeliveredWithTheStartRollsBackBeforeAnythingChanges() {
        MigrationPlan plan = plan("abort_early", "auto", null);
        MigrationWorkflow wf = stub(plan);
        io.temporal.client.BatchRequest start = client.newSignalWithStartRequest();
        start.add(wf::migrate, plan);
        start.add(wf::abort, "changed my mind");
        client.signalWithStart(start);
        MigrationStatus s = result(wf);

        assertEquals(State.ROLLED_BACK, s.state(), () -> "error: " + s.error() + "; calls: " + fakes.calls);
        assertTrue(s.error().startsWith("aborted: changed my mind"), s.error());
        assertEquals(List.of(), s.compensations());
        assertEquals(List.of(), fakes.calls, "nothing ran, so nothing to undo");
        assertReplays(plan);
    }

    // --- validation differences

    @Test
    void validationDifferencesRollBackWithTheirSummary() {
        fakes.liveValidationDiffers = true;
        MigrationPlan plan = plan("differs", "auto", null);
        MigrationStatus s = stub(plan).migrate(plan);

        assertEquals(State.ROLLED_BACK, s.state(), () -> "error: " + s.error());
        assertEquals("validation failed: validation found differences: public.orders (rows 100 vs 99, chunks [id 1-100])",
                s.error());
        assertEquals(APPLIER_SAGA, s.compensations());
        assertEquals(1, fakes.count("ValidateData(frozen=false)"), "ValidationFailed is not retried");
        assertEquals(0, fakes.count("FenceSourceWrites"));
        assertEquals(false, s.validation().passed());
    }

    // --- applier failures and failed undo

    @Test
    void applierDataErrorDuringCatchUpRollsBack() {
        fakes.caughtUp = false; // catch-up never happens: only the applier's failure can end the snapshot phase
        fakes.applierFails = true;
        MigrationPlan plan = plan("bad_data", "auto", null);
        MigrationStatus s = stub(plan).migrate(plan);

        assertEquals(State.ROLLED_BACK, s.state(), () -> "error: " + s.error());
        assertEquals("snapshot failed: " + FakeActivities.APPLY_ERROR, s.error());
        assertEquals(APPLIER_SAGA, s.compensations());
        assertEquals(1, fakes.count("RunApplier"), "ApplyDataError is not retried");
        assertEquals(0, fakes.count("RunApplier(cancelled)"));
        assertEquals(1, fakes.count("TeardownCapture"));
        assertEquals(1, fakes.count("DropCreatedTargetTables"));
        assertEquals(0, fakes.count("ValidateData(frozen=false)"));
        assertEquals(1, fakes.count("CleanupTarget"), "the target control schema is an undo too");
    }

    @Test
    void applierDataErrorWhileAwaitingApprovalRollsBack() {
        MigrationPlan plan = plan("bad_data_late", "manual", null);
        MigrationWorkflow wf = stub(plan);
        WorkflowClient.start(wf::migrate, plan);
        awaitStatus(wf, "awaiting approval", s -> s.state() == State.AWAITING_APPROVAL);

        fakes.applierFails = true;
        MigrationStatus s = result(wf);

        assertEquals(State.ROLLED_BACK, s.state(), () -> "error: " + s.error());
        assertEquals("approval failed: " + FakeActivities.APPLY_ERROR, s.error());
        assertEquals(APPLIER_SAGA, s.compensations());
        assertNull(s.approvedBy());
        assertEquals(1, fakes.count("RunApplier"));
        assertEquals(0, fakes.count("FenceSourceWrites"));
    }

    @Test
    void aFailedUndoDoesNotStopTheOthersAndLeavesTheMigrationFailed() {
        fakes.teardownFails = true;
        MigrationPlan plan = plan("undo_fails", "auto", "snapshot");
        MigrationStatus s = stub(plan).migrate(plan);

        assertEquals(State.FAILED, s.state(), () -> "error: " + s.error());
        assertEquals(List.of("StopApplier", "TeardownCapture (FAILED)", "CleanupTarget", "DropCreatedTargetTables"), s.compensations());
        assertTrue(s.error().startsWith("snapshot failed: injected failure"), s.error());
        assertTrue(s.error().endsWith("; rollback incomplete: TeardownCapture: connector dbmigrate_x: 503 from Kafka Connect"),
                s.error());
        assertEquals(1, fakes.count("TeardownCapture"));
        assertEquals(1, fakes.count("DropCreatedTargetTables"));
    }

    // --- invalid plan

    @Test
    void invalidPlanFailsBeforeAnyActivity() {
        Map<String, Object> unknown = new LinkedHashMap<>();
        unknown.put("xyz", 1);
        MigrationPlan valid = plan("invalid", "auto", null);
        MigrationPlan plan = new MigrationPlan(valid.migrationId(), null, valid.target(), valid.schemas(), null,
                valid.thresholds(), valid.approval(), null, null, unknown);

        WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> stub(plan).migrate(plan));
        ApplicationFailure af = assertInstanceOf(ApplicationFailure.class, e.getCause());
        assertEquals("InvalidPlan", af.getType());
        assertTrue(af.getOriginalMessage().contains("unknown field 'xyz'"), af.getOriginalMessage());
        assertTrue(af.getOriginalMessage().contains("missing field 'source'"), af.getOriginalMessage());
        assertTrue(af.isNonRetryable());
        assertEquals(List.of(), fakes.calls);
    }
}
