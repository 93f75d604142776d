package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.dbmigrate.workflows.model.PlanValidator;
import io.dbmigrate.workflows.model.StreamLag;
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
        Phases.cleanup(c);
        c.state = State.COMPLETED;
        c.closeTimings();
        return c.status();
    }

    private void rollBack(TemporalFailure cause) {
        c.error = c.abortReason != null ? "aborted: " + c.abortReason : c.phase.label() + " failed: " + MigrationContext.describe(cause);
        log.warn("migration {} rolling back: {}", c.plan.migrationId(), c.error);
        c.state = State.ROLLING_BACK;
        // detached: the undo runs even when the workflow itself was cancelled
        List<String> failures = new java.util.ArrayList<>();
        Workflow.newDetachedCancellationScope(() -> failures.addAll(c.saga.compensate())).run();
        if (failures.isEmpty()) {
            c.state = State.ROLLED_BACK;
        } else {
            c.state = State.FAILED;
            c.error = c.error + "; rollback incomplete: " + String.join("; ", failures);
        }
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
        if (c.validation == null || !c.validation.passed()) {
            return "validation has not passed";
        }
        // before the approval-lag-on-demand version the lag came in by signal and was checked here
        return c.approvalReadsLag ? null : c.lagRefusal(c.lag);
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
