package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.FallbackWindow;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.List;

/**
 * The migration's phases, in order, one method each, so the history reads as: Preflight, PrepareTargetSchema,
 * PrepareCapture, RunApplier, AwaitCatchUp, ValidateData, (approval: StreamLag when asked), FenceSourceWrites (with
 * the pause's timer), DrainStream, SyncSequences, ValidateData, (cleanup: the applier stopped) TeardownCapture,
 * UnfenceSourceWrites, CleanupTarget. Since {@link #FALLBACK_WINDOW}: PrepareReverseCapture before the pause,
 * MarkSwitchPoint and HoldSourceFence last inside it; then (with a window) the reverse RunApplier until finalize or
 * rollback; at the end TeardownCapture (both streams), RetireSource, CleanupTarget. Since {@link #RECHECK_BEFORE_PAUSE}:
 * RecheckChanges right before the pause.
 */
final class Phases {
    private Phases() {}

    /** Checks both sides; changes nothing, so nothing to compensate. */
    static void preflight(MigrationContext c) {
        c.enter(Phase.PREFLIGHT);
        PreflightReport report = c.steps.preflight(c.plan);
        c.tables = report.tables();
        c.forward = new StreamSpec(c.plan.migrationId(), StreamSpec.Direction.FORWARD, c.plan.source(), c.plan.target(),
                c.tables, true, c.plan.maxRecordBytesOrNull(), c.plan.redactValues());
        c.maybeInject(Phase.PREFLIGHT);
    }

    /** Version marker: the initial copy is dbmigrate's own (CopySnapshot), then capture starts on its slot. */
    static final String SNAPSHOT_COPY = "snapshot-copy";
    /** Version marker: with the copy, the target's tables first (PrepareTargetTables), the rest after the data. */
    static final String TARGET_SCHEMA_SECTIONS = "target-schema-sections";

    /**
     * Target tables, then (with Debezium's snapshot) capture and the applier; each undo registered first. With the
     * copy (the default), capture and the applier start in the snapshot phase, after the copy, on the copy's slot.
     */
    static void prepare(MigrationContext c) {
        c.enter(Phase.PREPARE);
        List<DbObject> created = c.createdOnTarget;
        c.saga.register("DropCreatedTargetTables", () -> c.steps.dropCreatedTargetTables(c.plan, created));
        c.schemaInSections = Workflow.getVersion(TARGET_SCHEMA_SECTIONS, Workflow.DEFAULT_VERSION, 1) >= 1
                && io.dbmigrate.workflows.model.MigrationPlan.SNAPSHOT_COPY.equals(c.plan.snapshotOrDefault());
        created.addAll(c.schemaInSections ? c.steps.prepareTargetTables(c.plan, c.tables) : c.steps.prepareTarget(c.plan, c.tables));
        c.saga.register("CleanupTarget", () -> c.steps.cleanupTarget(c.plan));
        c.saga.register("TeardownCapture", () -> c.pipeline.teardownCapture(c.forward));
        c.copiesSnapshot = Workflow.getVersion(SNAPSHOT_COPY, Workflow.DEFAULT_VERSION, 1) >= 1
                && io.dbmigrate.workflows.model.MigrationPlan.SNAPSHOT_COPY.equals(c.plan.snapshotOrDefault());
        if (c.copiesSnapshot) {
            c.forward = c.forward.withSnapshot(false);
        } else {
            c.pipeline.prepareCapture(c.forward);
            startApplier(c);
        }
        c.maybeInject(Phase.PREPARE);
    }

    private static void startApplier(MigrationContext c) {
        c.saga.register("StopApplier", () -> stopApplier(c));
        c.applierScope = Workflow.newCancellationScope(() -> c.applierRun = Async.procedure(c.applierStub::runApplier, c.forward));
        c.applierScope.run();
    }

    /**
     * The initial copy (CopySnapshot, then Debezium streams from the copy's slot with no snapshot of its own; or
     * Debezium's snapshot through the same ordered stream); then wait for lag under the thresholds.
     */
    static void snapshot(MigrationContext c) {
        c.enter(Phase.SNAPSHOT);
        if (c.copiesSnapshot) {
            c.snapshotCopy = c.copyStub.copySnapshot(c.forward);
            if (c.schemaInSections) {
                c.createdOnTarget.addAll(c.longSteps.finishTargetSchema(c.plan, List.copyOf(c.createdOnTarget)));
            }
            c.pipeline.prepareCapture(c.forward);
            startApplier(c);
        }
        c.withApplier(Async.procedure(c.longSteps::awaitCatchUp, c.forward, c.plan.thresholdsOrDefault()));
        c.lag = c.pipeline.lag(c.forward);
        c.maybeInject(Phase.SNAPSHOT);
    }

    static void validation(MigrationContext c) {
        c.enter(Phase.VALIDATION);
        c.validated(c.withApplier(Async.function(c.longSteps::validate, c.plan, c.forward, c.tables, false)));
        c.maybeInject(Phase.VALIDATION);
        if (!c.validation.passed()) {
            throw ApplicationFailure.newNonRetryableFailure("validation found differences: " + summary(c.validation),
                    "ValidationFailed");
        }
    }

    /** Version marker: the {@code validate} update runs the live validation again while approval is awaited. */
    static final String VALIDATE_ON_DEMAND = "validate-on-demand";

    /**
     * The live validation of {@link #validation} again, on request, the applier running; in a scope of its own that a
     * rollback cancels (and that is cancelled here when the applier stopped first), so it never reads on after.
     */
    static ValidationReport validateOnDemand(MigrationContext c) {
        List<Promise<ValidationReport>> run = new java.util.ArrayList<>(1);
        c.onDemandValidation = Workflow.newCancellationScope(
                () -> run.add(Async.function(c.longSteps::validate, c.plan, c.forward, c.tables, false)));
        c.onDemandValidation.run();
        try {
            return c.withApplier(run.get(0));
        } finally {
            if (!run.get(0).isCompleted()) {
                c.onDemandValidation.cancel("the applier stopped");
            }
            c.onDemandValidation = null;
        }
    }

    /** Stops the applier (it checkpoints what it applied) and waits for it to finish. */
    static void stopApplier(MigrationContext c) {
        if (c.applierScope != null) {
            stop(c.applierScope, c.applierRun, "migration " + c.plan.migrationId() + " stops applying");
            c.applierScope = null;
        }
    }

    /** Cancels an applier's scope and waits until its activity has ended (cancelled, or failed before). */
    private static void stop(CancellationScope scope, Promise<Void> run, String why) {
        scope.cancel(why);
        try {
            run.get();
        } catch (RuntimeException expected) {
            // cancelled, or it had already failed: either way it no longer runs
        }
    }

    static String summary(ValidationReport v) {
        StringBuilder b = new StringBuilder();
        v.tables().stream().filter(t -> !t.matches()).forEach(t -> b.append(t.table()).append(" (rows ")
                .append(t.sourceRows()).append(" vs ").append(t.targetRows()).append(", chunks ")
                .append(t.mismatchedChunks()).append(") "));
        return b.toString().trim();
    }

    /** Version marker: the approval wait runs nothing; lag is read when someone approves (was: WatchStream + lagReport). */
    static final String APPROVAL_LAG_ON_DEMAND = "approval-lag-on-demand";
    /** Version marker: the write pause races a workflow timer (was: the deadline checked between steps). */
    static final String CUTOVER_DEADLINE_TIMER = "cutover-deadline-timer";

    /**
     * Manual approval waits for {@code approveCutover} (or the {@code approve} signal). Nothing runs while it waits,
     * so a wait of weeks adds no events to the history; the lag is read by a short {@code StreamLag} when someone
     * approves, and the approval is refused if it is above the plan's thresholds.
     */
    static void approval(MigrationContext c) {
        c.enter(Phase.APPROVAL);
        if (c.plan.autoApprove()) {
            c.approvedBy = "auto";
            return;
        }
        c.approvalReadsLag = Workflow.getVersion(APPROVAL_LAG_ON_DEMAND, Workflow.DEFAULT_VERSION, 1) >= 1;
        c.state = io.dbmigrate.workflows.model.MigrationStatus.State.AWAITING_APPROVAL;
        if (c.approvalReadsLag) {
            awaitApproval(c);
        } else {
            awaitApprovalWatchingLag(c);
        }
        c.state = io.dbmigrate.workflows.model.MigrationStatus.State.RUNNING;
        if (c.approvedBy == null) {
            c.applierRun.get();
            throw ApplicationFailure.newNonRetryableFailure("the applier stopped while waiting for approval", "ApplierStopped");
        }
    }

    private static void awaitApproval(MigrationContext c) {
        while (c.approvedBy == null && !c.applierRun.isCompleted()) {
            Workflow.await(() -> c.approvedBy != null || c.approveRequestedBy != null || c.applierRun.isCompleted());
            String by = c.approveRequestedBy;
            c.approveRequestedBy = null;
            if (by != null && c.approvedBy == null && !c.applierRun.isCompleted()) {
                String refused = lagRefusalNow(c);
                if (refused == null) {
                    c.approvedBy = by;
                } else {
                    Workflow.getLogger(Phases.class).info("approve signal from {} refused: {}", by, refused);
                }
            }
        }
    }

    /** Before version 1: WatchStream signalled lagReport every 5 s (about 2,900 events an hour of waiting). */
    private static void awaitApprovalWatchingLag(MigrationContext c) {
        io.temporal.workflow.CancellationScope watch = Workflow.newCancellationScope(
                () -> Async.procedure(c.watchStub::watchStream, c.forward, Workflow.getInfo().getWorkflowId()));
        watch.run();
        Workflow.await(() -> c.approvedBy != null || c.applierRun.isCompleted());
        watch.cancel("approval decided");
    }

    /** Reads the lag now (a short activity); null when it is under the plan's thresholds, else why not. */
    static String lagRefusalNow(MigrationContext c) {
        c.approvalsChecking++;
        try {
            c.lag = c.pipeline.lag(c.forward);
        } catch (io.temporal.failure.ActivityFailure e) {
            return "the lag could not be read: " + MigrationContext.describe(e);
        } finally {
            c.approvalsChecking--;
        }
        return c.lagRefusal(c.lag);
    }

    /**
     * Fence the source, drain, sync sequences, validate exactly; then the point of no return. The undo of the fence
     * is registered before it is set. The pause races a workflow timer of {@code cutover.maxWritePauseSeconds}: when
     * it fires first, whatever step is running is cancelled and the rollback reopens the source at once. The fence
     * itself expires a little after the deadline (see FenceSourceWrites), so a source whose worker died stays fenced
     * no longer than that even if no worker ever comes back.
     */
    static void cutover(MigrationContext c) {
        c.enter(Phase.CUTOVER);
        if (Workflow.getVersion(CUTOVER_DEADLINE_TIMER, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION) {
            cutoverCheckedBetweenSteps(c);
            return;
        }
        c.fallbackVersion = Workflow.getVersion(FALLBACK_WINDOW, Workflow.DEFAULT_VERSION, 1) >= 1;
        if (c.fallbackVersion && c.plan.cutoverOrDefault().fallbackWindowMinutes() > 0) {
            // before the pause: the slot must exist before the first application write on the target
            c.reverse = new StreamSpec(c.plan.migrationId(), StreamSpec.Direction.REVERSE, c.plan.target(), c.plan.source(),
                    c.tables, false, c.plan.maxRecordBytesOrNull(), c.plan.redactValues());
            c.saga.register("TeardownReverseCapture", () -> c.pipeline.teardownCapture(c.reverse));
            c.pipeline.prepareReverseCapture(c.reverse);
        }
        if (c.fallbackVersion && Workflow.getVersion(RECHECK_BEFORE_PAUSE, Workflow.DEFAULT_VERSION, 1) >= 1) {
            recheckBeforePause(c);
        }
        long deadlineMs = c.plan.cutoverOrDefault().maxWritePauseSeconds() * 1000L;
        if (viaPgBouncer(c)) {
            // after the source reopens (compensations run newest first): clients then go on where they were
            c.saga.register("ResumeTrafficOnSource", () -> {
                c.trafficSteps.repointTraffic(c.plan.reversed());
                c.trafficSteps.resumeTraffic(c.plan);
            });
        }
        c.saga.register("UnfenceSourceWrites", () -> c.freezeSteps.unfenceSource(c.plan));
        long fencedAt = Workflow.currentTimeMillis();
        List<Promise<io.dbmigrate.workflows.model.CutoverReport>> freeze = new java.util.ArrayList<>(1);
        CancellationScope freezeScope = Workflow.newCancellationScope(() -> freeze.add(Async.function(() -> freeze(c))));
        freezeScope.run();
        List<Promise<Void>> deadline = new java.util.ArrayList<>(1);
        CancellationScope timerScope = Workflow.newCancellationScope(
                () -> deadline.add(Workflow.newTimer(java.time.Duration.ofMillis(deadlineMs))));
        timerScope.run();
        Promise.anyOf(freeze.get(0), deadline.get(0)).get();
        if (!freeze.get(0).isCompleted()) {
            freezeScope.cancel("write pause deadline");
            throw ApplicationFailure.newNonRetryableFailure("write pause reached cutover.maxWritePauseSeconds ("
                    + deadlineMs / 1000 + " s) before the cutover's steps ended: reopening the source", "CutoverDeadline");
        }
        timerScope.cancel("the freeze ended in time");
        io.dbmigrate.workflows.model.CutoverReport steps = freeze.get(0).get();
        // the timer and the last step can complete in the same workflow task (a worker that came back late)
        checkDeadline(c, fencedAt, deadlineMs, "final validation");
        pointOfNoReturn(c, steps.fenceLsn(), steps.drainedLsn(), steps.sequences(), steps.finalValidation(), fencedAt);
        if (viaPgBouncer(c)) {
            long waited = c.trafficSteps.resumeTraffic(c.plan);
            c.cutoverReport(c.cutover.withClientWait(Workflow.currentTimeMillis() - fencedAt, waited));
        }
    }

    /** Version marker: right before the pause, the rows changed since the last validation are re-checked live. */
    static final String RECHECK_BEFORE_PAUSE = "recheck-before-pause";

    /**
     * The frozen validation inside the pause reads the changes made since the last live validation that passed; this
     * one, while writes still run, re-checks those rows and moves that point up to now, so the pause has only the
     * last moments' changes to read however long the approval took.
     */
    private static void recheckBeforePause(MigrationContext c) {
        ValidationReport recheck = c.withApplier(Async.function(c.longSteps::recheckChanges, c.plan, c.forward, c.tables));
        c.validated(recheck);
        if (!recheck.passed()) {
            throw ApplicationFailure.newNonRetryableFailure("the live re-check before the write pause found differences: "
                    + summary(recheck), "ValidationFailed");
        }
    }

    /** Strategy pgbouncer (only from version {@link #FALLBACK_WINDOW}): clients wait in PgBouncer and are repointed. */
    static boolean viaPgBouncer(MigrationContext c) {
        return c.fallbackVersion && c.plan.cutoverOrDefault().viaPgBouncer();
    }

    /** The target holds everything the source committed: applications move to it now, and nothing is undone after. */
    private static void pointOfNoReturn(MigrationContext c, String fenceLsn, String drained, List<String> sequences,
            ValidationReport finalCheck, long fencedAt) {
        c.pastPointOfNoReturn = true;
        c.saga.forget();
        c.cutoverReport(new io.dbmigrate.workflows.model.CutoverReport(fenceLsn, drained, sequences, finalCheck,
                Workflow.currentTimeMillis() - fencedAt, c.fallbackVersion ? c.plan.cutoverOrDefault().strategy() : null, null));
    }

    /** The steps inside the write pause; the pause itself is measured by {@link #cutover}. */
    private static io.dbmigrate.workflows.model.CutoverReport freeze(MigrationContext c) {
        if (viaPgBouncer(c)) {
            c.trafficSteps.pauseTraffic(c.plan); // first: the fence then meets no application transaction
        }
        String fenceLsn = c.freezeSteps.fenceSource(c.plan, c.tables);
        String drained = c.withApplier(Async.function(c.pipeline::drain, c.forward, fenceLsn));
        if (c.fallbackVersion && Workflow.getVersion(PARALLEL_FREEZE, Workflow.DEFAULT_VERSION, 1) >= 1) {
            return afterDrainInParallel(c, fenceLsn, drained);
        }
        List<String> sequences = c.freezeSteps.syncSequences(c.plan, c.tables);
        ValidationReport finalCheck = finalValidation(c);
        if (c.reverse != null) {
            c.switchLsn = c.pipeline.markSwitchPoint(c.reverse);
        }
        if (c.fallbackVersion) {
            // last: a fence that could lapse after the switch would let writes into the old source that nobody reads
            c.freezeSteps.holdSourceFence(c.plan);
        }
        if (viaPgBouncer(c)) {
            c.trafficSteps.repointTraffic(c.plan);
        }
        return new io.dbmigrate.workflows.model.CutoverReport(fenceLsn, drained, sequences, finalCheck, 0);
    }

    /** Version marker: after the drain, the pause's remaining steps run side by side (each waits only for the drain). */
    static final String PARALLEL_FREEZE = "parallel-freeze";

    /**
     * Sequences, the frozen validation, the switch point, the held fence and PgBouncer's new entry depend on the drain
     * and not on each other, so they run at once: the pause lasts as long as the slowest (the validation), not their
     * sum plus a workflow task between each. Nothing here is visible to applications before the point of no return
     * (clients stay paused; the held fence and the entry are undone by the rollback). When one fails, the others are
     * waited for before the rollback starts, so no step lands after its undo.
     */
    private static io.dbmigrate.workflows.model.CutoverReport afterDrainInParallel(MigrationContext c, String fenceLsn,
            String drained) {
        Promise<List<String>> sequences = Async.function(c.freezeSteps::syncSequences, c.plan, c.tables);
        Promise<ValidationReport> check = Async.function(c.longSteps::validate, c.plan, c.forward, c.tables, true);
        Promise<String> mark = c.reverse == null ? Workflow.newPromise(null) : Async.function(c.pipeline::markSwitchPoint, c.reverse);
        Promise<Void> hold = Async.procedure(c.freezeSteps::holdSourceFence, c.plan);
        Promise<Boolean> repoint = viaPgBouncer(c) ? Async.function(c.trafficSteps::repointTraffic, c.plan) : Workflow.newPromise(false);
        List<Promise<?>> all = List.of(sequences, check, mark, hold, repoint);
        try {
            c.withApplier(Promise.allOf(sequences, check, mark, hold, repoint));
        } catch (RuntimeException e) {
            for (Promise<?> p : all) {
                try {
                    p.get();
                } catch (RuntimeException settled) {
                    // failed or cancelled: settled either way
                }
            }
            throw e;
        }
        c.switchLsn = mark.get();
        ValidationReport finalCheck = check.get();
        c.validated(finalCheck);
        c.maybeInject(Phase.CUTOVER);
        if (!finalCheck.passed()) {
            throw ApplicationFailure.newNonRetryableFailure("final validation inside the write freeze found differences: "
                    + summary(finalCheck), "ValidationFailed");
        }
        return new io.dbmigrate.workflows.model.CutoverReport(fenceLsn, drained, sequences.get(), finalCheck, 0);
    }

    /** The exact comparison inside the write pause; the cutover goes on only if it passes. */
    private static ValidationReport finalValidation(MigrationContext c) {
        ValidationReport finalCheck = c.withApplier(Async.function(c.longSteps::validate, c.plan, c.forward, c.tables, true));
        c.validated(finalCheck);
        c.maybeInject(Phase.CUTOVER);
        if (!finalCheck.passed()) {
            throw ApplicationFailure.newNonRetryableFailure("final validation inside the write freeze found differences: "
                    + summary(finalCheck), "ValidationFailed");
        }
        return finalCheck;
    }

    /** Before version 1 of {@link #CUTOVER_DEADLINE_TIMER}: the deadline was checked only between steps. */
    private static void cutoverCheckedBetweenSteps(MigrationContext c) {
        long deadline = c.plan.cutoverOrDefault().maxWritePauseSeconds() * 1000L;
        c.saga.register("UnfenceSourceWrites", () -> c.steps.unfenceSource(c.plan));
        long fencedAt = Workflow.currentTimeMillis();
        String fenceLsn = c.steps.fenceSource(c.plan, c.tables);
        String drained = c.withApplier(Async.function(c.pipeline::drain, c.forward, fenceLsn));
        checkDeadline(c, fencedAt, deadline, "drain");
        List<String> sequences = c.steps.syncSequences(c.plan, c.tables);
        ValidationReport finalCheck = finalValidation(c);
        checkDeadline(c, fencedAt, deadline, "final validation");
        pointOfNoReturn(c, fenceLsn, drained, sequences, finalCheck, fencedAt);
    }

    private static void checkDeadline(MigrationContext c, long fencedAt, long deadlineMs, String step) {
        long paused = Workflow.currentTimeMillis() - fencedAt;
        if (paused > deadlineMs) {
            throw ApplicationFailure.newNonRetryableFailure("write pause reached " + paused + " ms after " + step
                    + ", over cutover.maxWritePauseSeconds: reopening the source", "CutoverDeadline");
        }
    }

    /** Version marker: the switch holds the fence; a fallback window (reverse stream) may follow; finalize retires the source. */
    static final String FALLBACK_WINDOW = "fallback-window";

    /**
     * After the switch (version {@link #FALLBACK_WINDOW}). With a window: the reverse stream applies the target's
     * changes to the old source, which keeps refusing application writes, until {@code finalize}, {@code rollback} or
     * the window's end (then finalize). Nothing runs while it waits: one timer, however long the window. Returns the
     * final state.
     */
    static io.dbmigrate.workflows.model.MigrationStatus.State fallback(MigrationContext c) {
        stopApplier(c); // the source is fenced: the forward stream has nothing left to apply
        if (c.reverse == null) {
            finalizeMigration(c);
            return io.dbmigrate.workflows.model.MigrationStatus.State.COMPLETED;
        }
        c.enter(Phase.FALLBACK);
        long opened = Workflow.currentTimeMillis();
        long closes = opened + c.plan.cutoverOrDefault().fallbackWindowMinutes() * 60_000L;
        c.fallback = new FallbackWindow(opened, closes, c.switchLsn, "running", FallbackWindow.OPEN, null, null);
        c.reverseScope = Workflow.newCancellationScope(() -> c.reverseRun = Async.procedure(c.applierStub::runApplier, c.reverse));
        c.reverseScope.run();
        while (true) {
            long left = closes - Workflow.currentTimeMillis();
            if (left <= 0) {
                c.fallback = c.fallback.with(c.fallback.reverseStream(), FallbackWindow.EXPIRED, "window end", c.fallback.lastError());
                break;
            }
            Workflow.await(java.time.Duration.ofMillis(left), () -> c.rollbackRequestedBy != null
                    || c.finalizeRequestedBy != null || (c.reverseRun.isCompleted() && c.reverseScope != null));
            if (c.reverseRun.isCompleted() && c.reverseScope != null) {
                c.reverseScope = null;
                String why = failureOf(c.reverseRun);
                Workflow.getLogger(Phases.class).error("migration {}: the reverse stream stopped: {}", c.plan.migrationId(), why);
                c.fallback = c.fallback.with("failed: " + why, FallbackWindow.OPEN, null, c.fallback.lastError());
            }
            if (c.finalizeRequestedBy != null) {
                c.fallback = c.fallback.with(c.fallback.reverseStream(), FallbackWindow.FINALIZED, c.finalizeRequestedBy,
                        c.fallback.lastError());
                break;
            }
            if (c.rollbackRequestedBy != null) {
                String by = c.rollbackRequestedBy;
                c.rollbackRequestedBy = null;
                String failed = rollbackAfterCutover(c, by);
                c.rollbackAttempts++;
                if (failed == null) {
                    return io.dbmigrate.workflows.model.MigrationStatus.State.ROLLED_BACK_AFTER_CUTOVER;
                }
                c.fallback = c.fallback.with(c.fallback.reverseStream(), FallbackWindow.OPEN, null, failed);
            }
        }
        finalizeMigration(c);
        return io.dbmigrate.workflows.model.MigrationStatus.State.COMPLETED;
    }

    private static String failureOf(Promise<Void> run) {
        try {
            run.get();
            return "ended";
        } catch (RuntimeException e) {
            return MigrationContext.describe(e);
        }
    }

    /**
     * Back to the old source during the window: the target refuses writes (fence, with the pause's lease), the
     * reverse stream drains, the old source's sequences move past the target's, and the old source opens. Until the
     * old source opens, a failure reopens the target and leaves the window open; returns why, or null when done.
     * Afterwards the target is as it was before the migration: what dbmigrate created there is dropped, so an
     * application still pointed at it fails loudly instead of writing where nobody reads.
     */
    static String rollbackAfterCutover(MigrationContext c, String by) {
        io.dbmigrate.workflows.model.MigrationPlan back = c.plan.reversed();
        long deadlineMs = c.plan.cutoverOrDefault().maxWritePauseSeconds() * 1000L;
        Workflow.getLogger(Phases.class).warn("migration {}: rollback after cutover requested by {}", c.plan.migrationId(), by);
        c.state = io.dbmigrate.workflows.model.MigrationStatus.State.ROLLING_BACK;
        long pausedAt = Workflow.currentTimeMillis();
        boolean bouncer = viaPgBouncer(c);
        try {
            if (bouncer) {
                c.trafficSteps.pauseTraffic(back);
            }
            c.freezeSteps.fenceSource(back, c.tables);
            if (c.reverseScope == null) {
                throw ApplicationFailure.newNonRetryableFailure("the reverse stream is not running", "ReverseStreamStopped");
            }
            Promise<String> drained = Async.function(c.pipeline::drain, c.reverse, null);
            Promise.anyOf(drained, c.reverseRun).get();
            if (!drained.isCompleted()) {
                throw ApplicationFailure.newNonRetryableFailure("the reverse stream stopped during the drain: "
                        + failureOf(c.reverseRun), "ReverseStreamStopped");
            }
            drained.get();
            c.freezeSteps.syncSequences(back, c.tables);
            checkDeadline(c, pausedAt, deadlineMs, "the reverse drain");
            c.freezeSteps.holdSourceFence(back);
            if (bouncer) {
                c.trafficSteps.repointTraffic(back);
            }
        } catch (TemporalFailure e) {
            String why = MigrationContext.describe(e);
            Workflow.getLogger(Phases.class).error("migration {}: rollback after cutover failed, still on the target: {}",
                    c.plan.migrationId(), why);
            Workflow.newDetachedCancellationScope(() -> {
                c.freezeSteps.unfenceSource(back);
                if (bouncer) {
                    c.trafficSteps.repointTraffic(c.plan);
                    c.trafficSteps.resumeTraffic(c.plan);
                }
            }).run();
            c.state = io.dbmigrate.workflows.model.MigrationStatus.State.RUNNING;
            return "rollback failed, the target serves again: " + why;
        }
        // the point of return: every write acknowledged on the target is on the old source, which opens now
        c.freezeSteps.unfenceSource(c.plan);
        if (bouncer) {
            c.trafficSteps.resumeTraffic(back);
        }
        c.fallback = c.fallback.with("stopped", FallbackWindow.ROLLED_BACK, by, null);
        c.enter(Phase.CLEANUP);
        stopReverseApplier(c);
        c.pipeline.teardownCapture(c.reverse);
        c.pipeline.teardownCapture(c.forward);
        c.steps.cleanupTarget(c.plan);
        c.steps.dropCreatedTargetTables(c.plan, List.copyOf(c.createdOnTarget));
        c.freezeSteps.unfenceSource(back);
        return null;
    }

    private static void stopReverseApplier(MigrationContext c) {
        if (c.reverseScope != null) {
            stop(c.reverseScope, c.reverseRun, "migration " + c.plan.migrationId() + " stops the reverse stream");
            c.reverseScope = null;
        }
    }

    /**
     * The end: both streams removed, the old source retired (read-only for new sessions, open sessions ended, then the
     * fence removed) and dbmigrate's schema on the target dropped.
     */
    static void finalizeMigration(MigrationContext c) {
        c.enter(Phase.CLEANUP);
        stopApplier(c);
        stopReverseApplier(c);
        if (c.reverse != null) {
            c.pipeline.teardownCapture(c.reverse);
            c.fallback = c.fallback.with("stopped", c.fallback.outcome(), c.fallback.decidedBy(), c.fallback.lastError());
        }
        c.pipeline.teardownCapture(c.forward);
        c.retirement = c.steps.retireSource(c.plan);
        c.steps.cleanupTarget(c.plan);
    }

    /** After the switch: nothing of dbmigrate stays behind on either side. */
    static void cleanup(MigrationContext c) {
        c.enter(Phase.CLEANUP);
        stopApplier(c);
        c.pipeline.teardownCapture(c.forward);
        c.freezeSteps.unfenceSource(c.plan);
        c.steps.cleanupTarget(c.plan);
    }
}
