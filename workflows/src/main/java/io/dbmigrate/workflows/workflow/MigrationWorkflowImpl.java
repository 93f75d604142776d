package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.dbmigrate.workflows.model.PlanValidator;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import java.util.List;
import org.slf4j.Logger;

/** Deterministic orchestration only: every effect is an activity; see {@link Phases} for the order. */
public final class MigrationWorkflowImpl implements MigrationWorkflow {
    private static final Logger log = Workflow.getLogger(MigrationWorkflowImpl.class);

    private MigrationContext c;
    private CancellationScope main;
    /** An abort that arrived before {@link #migrate} ran (same first workflow task, e.g. signal-with-start). */
    private String earlyAbortReason;

    @Override
    public MigrationStatus migrate(MigrationPlan plan) {
        List<String> problems = PlanValidator.problems(plan);
        if (!problems.isEmpty()) {
            throw ApplicationFailure.newNonRetryableFailure("invalid plan: " + String.join("; ", problems), "InvalidPlan");
        }
        c = new MigrationContext(plan);
        // only executions started with MigrationId get the version marker: histories without it replay unchanged
        c.upsertsPhase = Workflow.getTypedSearchAttributes().containsKey(SearchAttributes.MIGRATION_ID)
                && Workflow.getVersion(MigrationContext.PHASE_SEARCH_ATTRIBUTE, Workflow.DEFAULT_VERSION, 1) >= 1;
        MigrationMetrics.plan(plan);
        main = Workflow.newCancellationScope(() -> {
            Phases.preflight(c);
            Phases.prepare(c);
            Phases.snapshot(c);
            Phases.validation(c);
            Phases.approval(c);
            Phases.cutover(c);
        });
        if (earlyAbortReason != null) {
            c.abortReason = earlyAbortReason;
            main.cancel(earlyAbortReason); // run() then fails at its first activity, before anything changed
        }
        try {
            main.run();
        } catch (TemporalFailure e) {
            rollBack(e);
            return c.status();
        }
        if (c.fallbackVersion) {
            c.state = Phases.fallback(c);
        } else {
            Phases.cleanup(c);
            c.state = State.COMPLETED;
        }
        c.closeTimings();
        // the rollback and finalize updates answer with the outcome: let them see it before the run ends
        Workflow.await(Workflow::isEveryHandlerFinished);
        return c.status();
    }

    private void rollBack(TemporalFailure cause) {
        c.error = c.abortReason != null ? "aborted: " + c.abortReason : c.phase.label() + " failed: " + MigrationContext.describe(cause);
        log.warn("migration {} rolling back: {}", c.plan.migrationId(), c.error);
        c.state = State.ROLLING_BACK;
        if (c.onDemandValidation != null) {
            // before the undo removes what it reads; its update then answers that it did not complete
            c.onDemandValidation.cancel("the migration rolls back");
            Workflow.await(() -> c.validatingBy == null);
        }
        // detached: the undo runs even when the workflow itself was cancelled
        List<String> failures = new java.util.ArrayList<>();
        Workflow.newDetachedCancellationScope(() -> failures.addAll(c.saga.compensate())).run();
        if (failures.isEmpty()) {
            c.state = State.ROLLED_BACK;
        } else {
            c.state = State.FAILED;
            c.error = c.error + "; rollback incomplete: " + String.join("; ", failures);
        }
        MigrationMetrics.rolledBack(c.plan, c.state);
        c.closeTimings();
    }

    /**
     * The validator (which may not block) checks the phase and the validation; the handler then reads the lag with a
     * short activity and refuses (the update fails, the migration keeps waiting) when it is above the thresholds.
     */
    @Override
    public String approveCutover(String approver) {
        String by = approverName(approver);
        if (c.approvalReadsLag) {
            String refused = Phases.lagRefusalNow(c);
            if (refused == null) {
                refused = notReadyReason(); // an abort or the applier's end may have come while the lag was read
            }
            if (refused != null) {
                throw ApplicationFailure.newFailure("cannot approve: " + refused, "ApprovalRefused");
            }
        }
        c.approvedBy = by;
        return "cutover approved by " + c.approvedBy;
    }

    @Override
    public void validateApproveCutover(String approver) {
        String reason = notReadyReason();
        if (reason != null) {
            throw new IllegalStateException("cannot approve: " + reason);
        }
    }

    private static String approverName(String approver) {
        return approver == null || approver.isBlank() ? "unknown" : approver;
    }

    /** Null when an approval would be accepted now; reads workflow state only. */
    private String notReadyReason() {
        if (c == null || c.phase != Phase.APPROVAL || c.state != State.AWAITING_APPROVAL
                || (c.approvalReadsLag && c.approvedBy != null)) {
            return "the migration is not waiting for approval (phase " + (c == null ? "none" : c.phase.label()) + ")";
        }
        if (c.validatingBy != null) {
            return "a validation requested by " + c.validatingBy + " is running: approve once it has passed";
        }
        if (c.validation == null || !c.validation.passed()) {
            return "validation has not passed" + (c.validation == null ? "" : ": the latest found differences in "
                    + Phases.summary(c.validation) + "; validate again (update validate) or roll back (signal abort)");
        }
        // before the approval-lag-on-demand version the lag came in by signal and was checked here
        return c.approvalReadsLag ? null : c.lagRefusal(c.lag);
    }

    /**
     * The validator refuses outside the approval wait; the handler checks again (an approval or another validation
     * may have been accepted in the same workflow task), then runs ValidateData with the applier running. A completed
     * run's report becomes the current validation whatever it found: the migration keeps waiting, and approval needs
     * it passed. A run that did not complete fails the update and changes nothing else.
     */
    @Override
    public ValidationReport validateNow(String by) {
        String refused = validateNowRefusal();
        if (refused == null && Workflow.getVersion(Phases.VALIDATE_ON_DEMAND, Workflow.DEFAULT_VERSION, 1)
                == Workflow.DEFAULT_VERSION) {
            refused = "this execution predates on-demand validation";
        }
        if (refused != null) {
            throw ApplicationFailure.newFailure("cannot validate: " + refused, "ValidationRefused");
        }
        String who = approverName(by);
        c.validatingBy = who;
        log.info("migration {}: validation requested by {}", c.plan.migrationId(), who);
        try {
            ValidationReport report = Phases.validateOnDemand(c);
            c.validated(report);
            log.info("migration {}: validation requested by {} {}", c.plan.migrationId(), who,
                    report.passed() ? "passed" : "found differences: " + Phases.summary(report));
            return report;
        } catch (TemporalFailure e) {
            throw ApplicationFailure.newFailure("the validation requested by " + who + " did not complete: "
                    + MigrationContext.describe(e) + "; the previous validation stays current", "ValidationIncomplete");
        } finally {
            c.validatingBy = null;
        }
    }

    @Override
    public void validateValidateNow(String by) {
        String reason = validateNowRefusal();
        if (reason != null) {
            throw new IllegalStateException("cannot validate: " + reason);
        }
    }

    /** Null when an on-demand validation may start now; reads workflow state only. */
    private String validateNowRefusal() {
        if (c == null || c.phase != Phase.APPROVAL || c.state != State.AWAITING_APPROVAL) {
            return "the migration is not waiting for approval (phase " + (c == null ? "none" : c.phase.label())
                    + "): validate runs after the first validation, until the cutover is approved";
        }
        if (c.approvedBy != null) {
            return "the cutover was approved by " + c.approvedBy;
        }
        if (c.abortReason != null) {
            return "the migration is being aborted";
        }
        if (c.applierRun == null || c.applierRun.isCompleted()) {
            return "the applier has stopped";
        }
        if (c.validatingBy != null) {
            return "a validation requested by " + c.validatingBy + " is already running";
        }
        if (c.approvalsChecking > 0 || c.approveRequestedBy != null) {
            return "an approval is being checked";
        }
        return null;
    }

    @Override
    public void approve(String approver) {
        String reason = notReadyReason();
        if (reason != null) {
            log.info("approve signal ignored: {}", reason);
        } else if (c.approvalReadsLag) {
            c.approveRequestedBy = approverName(approver);
        } else {
            approveCutover(approver);
        }
    }

    @Override
    public void abort(String reason) {
        String r = reason == null || reason.isBlank() ? "operator request" : reason;
        if (c == null) {
            // signals in the first workflow task are handled before migrate() runs: keep it for migrate() to honour
            earlyAbortReason = r;
            return;
        }
        if (c.pastPointOfNoReturn) {
            log.warn("abort ignored: the cutover passed its point of no return");
            return;
        }
        c.abortReason = r;
        main.cancel(c.abortReason);
    }

    @Override
    public String rollback(String by) {
        int mine = ++c.rollbackRequests;
        c.rollbackRequestedBy = approverName(by);
        Workflow.await(() -> c.rollbackAttempts >= mine || c.state == State.ROLLED_BACK_AFTER_CUTOVER);
        if (c.state == State.ROLLED_BACK_AFTER_CUTOVER) {
            return "rolled back after cutover: every write acknowledged on the target is on the source, which takes writes again";
        }
        throw ApplicationFailure.newFailure(c.fallback.lastError(), "RollbackFailed");
    }

    @Override
    public void validateRollback(String by) {
        String reason = windowClosedReason();
        if (reason == null && !"running".equals(c.fallback.reverseStream())) {
            reason = "the reverse stream is not running (" + c.fallback.reverseStream() + "): the old source is not current";
        }
        if (reason != null) {
            throw new IllegalStateException("cannot roll back: " + reason);
        }
    }

    @Override
    public String finalizeCutover(String by) {
        c.finalizeRequestedBy = approverName(by);
        Workflow.await(() -> c.state == State.COMPLETED || c.state == State.FAILED);
        return "finalized by " + c.finalizeRequestedBy + ": the old source is retired"
                + (c.retirement == null ? "" : (c.retirement.readOnly() ? " (read-only" : " (NOT read-only")
                        + ", " + c.retirement.sessionsEnded() + " sessions ended"
                        + (c.retirement.fenceRemoved() ? ")" : ", fence kept: see RUNBOOK)"));
    }

    @Override
    public void validateFinalizeCutover(String by) {
        String reason = windowClosedReason();
        if (reason != null) {
            throw new IllegalStateException("cannot finalize: " + reason);
        }
    }

    /** Null while the fallback window is open and nothing was decided yet. */
    private String windowClosedReason() {
        if (c == null || c.phase != Phase.FALLBACK || c.fallback == null
                || !io.dbmigrate.workflows.model.FallbackWindow.OPEN.equals(c.fallback.outcome())) {
            return "no fallback window is open (phase " + (c == null ? "none" : c.phase.label()) + ")";
        }
        if (c.rollbackRequestedBy != null || c.finalizeRequestedBy != null || c.state == State.ROLLING_BACK) {
            return "a rollback or finalize is already under way";
        }
        return null;
    }

    /** Only migrations started before the approval-lag-on-demand version receive it (from WatchStream). */
    @Override
    public void lagReport(StreamLag lag) {
        if (c != null) {
            c.lag = lag;
        }
    }

    @Override
    public MigrationStatus status() {
        return c == null ? null : c.status();
    }
}
