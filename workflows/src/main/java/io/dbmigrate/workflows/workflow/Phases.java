package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Workflow;
import java.util.List;

/**
 * The migration's phases, in order, one method each, so the history reads as: Preflight, PrepareTargetSchema,
 * PrepareCapture, RunApplier, AwaitCatchUp, ValidateData, (approval), FenceSourceWrites, DrainStream, SyncSequences,
 * ValidateData, (cleanup: the applier stopped) TeardownCapture, UnfenceSourceWrites, CleanupTarget.
 */
final class Phases {
    private Phases() {}

    /** Checks both sides; changes nothing, so nothing to compensate. */
    static void preflight(MigrationContext c) {
        c.enter(Phase.PREFLIGHT);
        PreflightReport report = c.steps.preflight(c.plan);
        c.tables = report.tables();
        c.forward = new StreamSpec(c.plan.migrationId(), StreamSpec.Direction.FORWARD, c.plan.source(), c.plan.target(),
                c.tables, true);
        c.maybeInject(Phase.PREFLIGHT);
    }

    /** Target tables, then capture (publication, slot, connector), then the applier; each undo registered first. */
    static void prepare(MigrationContext c) {
        c.enter(Phase.PREPARE);
        List<String> created = new java.util.ArrayList<>();
        c.saga.register("DropCreatedTargetTables", () -> c.steps.dropCreatedTargetTables(c.plan, created));
        created.addAll(c.steps.prepareTarget(c.plan, c.tables));
        c.saga.register("CleanupTarget", () -> c.steps.cleanupTarget(c.plan));
        c.saga.register("TeardownCapture", () -> c.pipeline.teardownCapture(c.forward));
        c.pipeline.prepareCapture(c.forward);
        c.saga.register("StopApplier", () -> stopApplier(c));
        c.applierScope = Workflow.newCancellationScope(() -> c.applierRun = Async.procedure(c.applierStub::runApplier, c.forward));
        c.applierScope.run();
        c.maybeInject(Phase.PREPARE);
    }

    /** The initial snapshot travels the same ordered stream; wait for it and for lag under the thresholds. */
    static void snapshot(MigrationContext c) {
        c.enter(Phase.SNAPSHOT);
        c.withApplier(Async.procedure(c.longSteps::awaitCatchUp, c.forward, c.plan.thresholdsOrDefault()));
        c.lag = c.pipeline.lag(c.forward);
        c.maybeInject(Phase.SNAPSHOT);
    }

    static void validation(MigrationContext c) {
        c.enter(Phase.VALIDATION);
        c.validation = c.withApplier(Async.function(c.longSteps::validate, c.plan, c.forward, c.tables, false));
        c.maybeInject(Phase.VALIDATION);
        if (!c.validation.passed()) {
            throw ApplicationFailure.newNonRetryableFailure("validation found differences: " + summary(c.validation),
                    "ValidationFailed");
        }
    }

    /** Stops the applier (it checkpoints what it applied) and waits for it to finish. */
    static void stopApplier(MigrationContext c) {
        if (c.applierScope != null) {
            c.applierScope.cancel("migration " + c.plan.migrationId() + " stops applying");
            try {
                c.applierRun.get();
            } catch (RuntimeException expected) {
                // cancelled, or it had already failed: either way it no longer runs
            }
            c.applierScope = null;
        }
    }

    static String summary(ValidationReport v) {
        StringBuilder b = new StringBuilder();
        v.tables().stream().filter(t -> !t.matches()).forEach(t -> b.append(t.table()).append(" (rows ")
                .append(t.sourceRows()).append(" vs ").append(t.targetRows()).append(", chunks ")
                .append(t.mismatchedChunks()).append(") "));
        return b.toString().trim();
    }

    /** Manual approval waits for approveCutover (or the approve signal); lag keeps flowing in from WatchStream. */
    static void approval(MigrationContext c) {
        c.enter(Phase.APPROVAL);
        if (c.plan.autoApprove()) {
            c.approvedBy = "auto";
            return;
        }
        c.state = io.dbmigrate.workflows.model.MigrationStatus.State.AWAITING_APPROVAL;
        io.temporal.workflow.CancellationScope watch = Workflow.newCancellationScope(
                () -> Async.procedure(c.watchStub::watchStream, c.forward, Workflow.getInfo().getWorkflowId()));
        watch.run();
        Workflow.await(() -> c.approvedBy != null || c.applierRun.isCompleted());
        watch.cancel("approval decided");
        c.state = io.dbmigrate.workflows.model.MigrationStatus.State.RUNNING;
        if (c.approvedBy == null) {
            c.applierRun.get();
            throw ApplicationFailure.newNonRetryableFailure("the applier stopped while waiting for approval", "ApplierStopped");
        }
    }

    /**
     * Fence the source, drain, sync sequences, validate exactly; then the point of no return. The undo of the fence
     * is registered before it is set, and the pause has a deadline: past it the cutover gives up and reopens the source.
     */
    static void cutover(MigrationContext c) {
        c.enter(Phase.CUTOVER);
        long deadline = c.plan.cutoverOrDefault().maxWritePauseSeconds() * 1000L;
        c.saga.register("UnfenceSourceWrites", () -> c.steps.unfenceSource(c.plan));
        long fencedAt = Workflow.currentTimeMillis();
        String fenceLsn = c.steps.fenceSource(c.plan, c.tables);
        String drained = c.withApplier(Async.function(c.pipeline::drain, c.forward, fenceLsn));
        checkDeadline(c, fencedAt, deadline, "drain");
        List<String> sequences = c.steps.syncSequences(c.plan, c.tables);
        ValidationReport finalCheck = c.withApplier(Async.function(c.longSteps::validate, c.plan, c.forward, c.tables, true));
        c.validation = finalCheck;
        c.maybeInject(Phase.CUTOVER);
        if (!finalCheck.passed()) {
            throw ApplicationFailure.newNonRetryableFailure("final validation inside the write freeze found differences: "
                    + summary(finalCheck), "ValidationFailed");
        }
        checkDeadline(c, fencedAt, deadline, "final validation");
        // point of no return: the target holds everything the source committed; applications move to it now
        c.pastPointOfNoReturn = true;
        c.saga.forget();
        c.cutover = new io.dbmigrate.workflows.model.CutoverReport(fenceLsn, drained, sequences, finalCheck,
                Workflow.currentTimeMillis() - fencedAt);
    }

    private static void checkDeadline(MigrationContext c, long fencedAt, long deadlineMs, String step) {
        long paused = Workflow.currentTimeMillis() - fencedAt;
        if (paused > deadlineMs) {
            throw ApplicationFailure.newNonRetryableFailure("write pause reached " + paused + " ms after " + step
                    + ", over cutover.maxWritePauseSeconds: reopening the source", "CutoverDeadline");
        }
    }

    /** After the switch: nothing of dbmigrate stays behind on either side. */
    static void cleanup(MigrationContext c) {
        c.enter(Phase.CLEANUP);
        stopApplier(c);
        c.pipeline.teardownCapture(c.forward);
        c.steps.unfenceSource(c.plan);
        c.steps.cleanupTarget(c.plan);
    }
}
