package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.activities.MigrationActivities;
import io.dbmigrate.workflows.activities.PipelineActivities;
import io.dbmigrate.workflows.model.ApplierProgress;
import io.dbmigrate.workflows.model.CutoverReport;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.dbmigrate.workflows.model.PhaseTiming;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Everything the phases share: the plan, activity stubs, the saga, the running applier and the status being built. */
final class MigrationContext {
    static final String[] NON_RETRYABLE = {MigrationActivities.PREFLIGHT_FAILED, MigrationActivities.VALIDATION_FAILED,
        MigrationActivities.INJECTED_FAULT, "ApplyDataError", "IllegalArgumentException", "CopyRefused",
        MigrationActivities.TRAFFIC_PAUSE_TIMEOUT};

    final MigrationPlan plan;
    final Compensations saga = new Compensations();
    final MigrationActivities steps;
    final MigrationActivities longSteps;
    final PipelineActivities pipeline;
    final PipelineActivities applierStub;
    final MigrationActivities watchStub;
    /** Fence, unfence and sequences: short, heartbeating, so a dead worker is noticed within seconds of the pause. */
    final MigrationActivities freezeSteps;
    /**
     * PgBouncer's pause, entry and resume: as {@link #freezeSteps}, but a cancelled step is waited for, so that an undo
     * (clients back on the source) never runs while a repoint to the target is still under way.
     */
    final MigrationActivities trafficSteps;
    /** The initial copy: hours on a large database; beats every second, so a dead worker is noticed in 30 s. */
    final PipelineActivities copyStub;

    State state = State.RUNNING;
    Phase phase = Phase.PREFLIGHT;
    List<TableRef> tables = List.of();
    StreamSpec forward;
    StreamLag lag;
    ValidationReport validation;
    CutoverReport cutover;
    /** The initial copy's result (plan snapshot "copy"); null with Debezium's snapshot. */
    io.dbmigrate.workflows.model.SnapshotCopyReport snapshotCopy;
    ApplierProgress applier;
    String approvedBy;
    String abortReason;
    boolean pastPointOfNoReturn;
    /** Set by the prepare phase (version {@link Phases#SNAPSHOT_COPY}): the initial copy is CopySnapshot's. */
    boolean copiesSnapshot;
    /** Set by the prepare phase (version {@link Phases#TARGET_SCHEMA_SECTIONS}): postData is built after the copy. */
    boolean schemaInSections;
    /** What PrepareTargetTables/PrepareTargetSchema and FinishTargetSchema created: the rollback drops it. */
    final List<io.dbmigrate.workflows.model.DbObject> createdOnTarget = new ArrayList<>();
    /** Set by the approval phase (version {@link Phases#APPROVAL_LAG_ON_DEMAND}): lag is read when approval is asked. */
    boolean approvalReadsLag;
    /** An {@code approve} signal waiting for the approval phase to check lag (the signal itself cannot answer). */
    String approveRequestedBy;
    /** Approvals whose lag is being read now: an on-demand validation is refused meanwhile. */
    int approvalsChecking;
    /** Who asked for the on-demand validation running now (update {@code validate}); null while none runs. */
    String validatingBy;
    /** That validation's scope: a rollback cancels it before it removes what the validation reads. */
    CancellationScope onDemandValidation;
    String error;
    final List<PhaseTiming> timings = new ArrayList<>();

    CancellationScope applierScope;
    Promise<Void> applierRun;

    /** Set by the cutover (version {@link Phases#FALLBACK_WINDOW}): the switch holds the fence, finalize retires the source. */
    boolean fallbackVersion;
    /** The reverse stream (target -> old source) when the plan has a fallback window; null otherwise. */
    StreamSpec reverse;
    /** The target's WAL position at the switch: the reverse stream applies what the target commits after it. */
    String switchLsn;
    io.dbmigrate.workflows.model.FallbackWindow fallback;
    io.dbmigrate.workflows.model.SourceRetirement retirement;
    CancellationScope reverseScope;
    Promise<Void> reverseRun;
    /** Requests from the rollback and finalize updates, taken by the fallback phase. */
    String rollbackRequestedBy;
    String finalizeRequestedBy;
    /** Rollback attempts asked for and finished: an update waits for the result of its own attempt. */
    int rollbackRequests;
    int rollbackAttempts;
    /**
     * Set at the start (version {@link #PHASE_SEARCH_ATTRIBUTE}) when the execution was started with the MigrationId
     * search attribute, i.e. on a server where dbmigrate's search attributes are registered: each phase change then
     * upserts MigrationPhase. Executions without it (servers that lack them, the test server's demos) never upsert.
     */
    boolean upsertsPhase;
    static final String PHASE_SEARCH_ATTRIBUTE = "phase-search-attribute";

    MigrationContext(MigrationPlan plan) {
        this.plan = plan;
        RetryOptions retry = RetryOptions.newBuilder().setInitialInterval(Duration.ofSeconds(1))
                .setMaximumInterval(Duration.ofSeconds(30)).setMaximumAttempts(5).setDoNotRetry(NON_RETRYABLE).build();
        this.steps = Workflow.newActivityStub(MigrationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(10)).setRetryOptions(retry).build());
        this.longSteps = Workflow.newActivityStub(MigrationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofHours(12)).setHeartbeatTimeout(Duration.ofSeconds(60))
                .setRetryOptions(retry).build());
        this.pipeline = Workflow.newActivityStub(PipelineActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(10)).setHeartbeatTimeout(Duration.ofSeconds(60))
                .setRetryOptions(retry).build());
        // the applier runs for the whole migration; a crashed worker is noticed through the missed heartbeat. It
        // beats every second (and in its retry loops); 10 s, not 30: the cutover's drain needs a running applier, and a
        // replacement that waited 30 s could never finish inside the default 30 s write pause (fault matrix: the worker
        // killed in the cutover always rolled back). A group that blocks longer costs a restart, not a change: the
        // stream's lock keeps the new attempt out until the old one has gone.
        this.applierStub = Workflow.newActivityStub(PipelineActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofDays(30)).setHeartbeatTimeout(Duration.ofSeconds(10))
                .setCancellationType(io.temporal.activity.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
                .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofSeconds(1))
                        .setMaximumInterval(Duration.ofSeconds(30)).setDoNotRetry(NON_RETRYABLE).build())
                .build());
        this.watchStub = Workflow.newActivityStub(MigrationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofDays(30)).setHeartbeatTimeout(Duration.ofSeconds(30))
                .setCancellationType(io.temporal.activity.ActivityCancellationType.TRY_CANCEL)
                .setRetryOptions(RetryOptions.newBuilder().setMaximumInterval(Duration.ofSeconds(30)).build())
                .build());
        this.copyStub = Workflow.newActivityStub(PipelineActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofDays(7)).setHeartbeatTimeout(Duration.ofSeconds(30))
                .setRetryOptions(retry).build());
        // the fence may wait lockTimeoutSeconds for locks; everything else here is a few statements
        int lockWait = plan.cutoverOrDefault().lockTimeoutSeconds();
        this.freezeSteps = Workflow.newActivityStub(MigrationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(lockWait + 30L)).setHeartbeatTimeout(Duration.ofSeconds(5))
                .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(500))
                        .setMaximumInterval(Duration.ofSeconds(2)).setMaximumAttempts(10).setDoNotRetry(NON_RETRYABLE).build())
                .build());
        this.trafficSteps = Workflow.newActivityStub(MigrationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(lockWait + 30L)).setHeartbeatTimeout(Duration.ofSeconds(5))
                .setCancellationType(io.temporal.activity.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
                .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(500))
                        .setMaximumInterval(Duration.ofSeconds(2)).setMaximumAttempts(10).setDoNotRetry(NON_RETRYABLE).build())
                .build());
    }

    void enter(Phase p) {
        long now = Workflow.currentTimeMillis();
        if (!timings.isEmpty() && timings.get(timings.size() - 1).endedAtMs() == null) {
            PhaseTiming last = timings.remove(timings.size() - 1);
            timings.add(new PhaseTiming(last.phase(), last.startedAtMs(), now));
        }
        MigrationMetrics.phase(plan, phase, p, now);
        phase = p;
        timings.add(new PhaseTiming(p.label(), now, null));
        Workflow.upsertMemo(Map.of("phase", p.label()));
        if (upsertsPhase) {
            Workflow.upsertTypedSearchAttributes(SearchAttributes.MIGRATION_PHASE.valueSet(p.label()));
        }
        Workflow.getLogger(MigrationContext.class).info("migration {}: phase {}", plan.migrationId(), p.label());
    }

    /** Every validation result goes through here: status shows it and the mismatch gauge follows it. */
    void validated(ValidationReport r) {
        validation = r;
        MigrationMetrics.validation(plan, r);
    }

    void cutoverReport(CutoverReport r) {
        cutover = r;
        MigrationMetrics.cutover(plan, r);
    }

    void closeTimings() {
        enter(Phase.DONE);
        PhaseTiming last = timings.remove(timings.size() - 1);
        timings.add(new PhaseTiming(last.phase(), last.startedAtMs(), last.startedAtMs()));
    }

    /** Rehearsal hook: plan.faultInjection names the phase whose end fails (after its changes, so rollback is real). */
    void maybeInject(Phase p) {
        if (p.label().equals(plan.faultInjection())) {
            steps.injectFault(p.label());
        }
    }

    /** Waits for {@code p}, but fails at once if the applier stops (it only stops on a data error). */
    <T> T withApplier(Promise<T> p) {
        if (applierRun != null) {
            Promise.anyOf(p, applierRun).get();
            if (!p.isCompleted() && applierRun.isCompleted()) {
                applierRun.get(); // throws the applier's failure
                throw ApplicationFailure.newNonRetryableFailure("the applier stopped unexpectedly", "ApplierStopped");
            }
        }
        return p.get();
    }

    /** Null when {@code lag} is under the plan's thresholds, else why not. */
    String lagRefusal(StreamLag lag) {
        if (lag == null) {
            return "no lag measurement yet";
        }
        MigrationPlan.Thresholds t = plan.thresholdsOrDefault();
        if (lag.bytes() > t.maxLagBytes()) {
            return "lag " + lag.bytes() + " bytes is above thresholds.maxLagBytes " + t.maxLagBytes();
        }
        if (lag.secondsSinceLastApplied() > t.maxLagSeconds()) {
            return "lag " + lag.secondsSinceLastApplied() + " s is above thresholds.maxLagSeconds " + t.maxLagSeconds();
        }
        return null;
    }

    MigrationStatus status() {
        return new MigrationStatus(plan == null ? null : plan.migrationId(), state, phase, tables, applier, lag, validation,
                cutover, List.copyOf(timings), List.copyOf(saga.ran()), approvedBy, validatingBy, snapshotCopy, fallback, retirement, error);
    }

    static String describe(Throwable t) {
        Throwable c = t;
        while (c instanceof ActivityFailure && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof ApplicationFailure af) {
            return af.getOriginalMessage();
        }
        return String.valueOf(c.getMessage());
    }
}
