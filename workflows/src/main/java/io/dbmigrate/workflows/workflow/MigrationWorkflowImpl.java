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

    @Override
    public String approveCutover(String approver) {
        c.approvedBy = approver == null || approver.isBlank() ? "unknown" : approver;
        return "cutover approved by " + c.approvedBy;
    }

    @Override
    public void validateApproveCutover(String approver) {
        String reason = notReadyReason();
        if (reason != null) {
            throw new IllegalStateException("cannot approve: " + reason);
        }
    }

    /** Null when an approval would be accepted now; reads workflow state only. */
    private String notReadyReason() {
        if (c == null || c.phase != Phase.APPROVAL || c.state != State.AWAITING_APPROVAL) {
            return "the migration is not waiting for approval (phase " + (c == null ? "none" : c.phase.label()) + ")";
        }
        if (c.validation == null || !c.validation.passed()) {
            return "validation has not passed";
        }
        if (c.lag == null) {
            return "no lag measurement yet";
        }
        MigrationPlan.Thresholds t = c.plan.thresholdsOrDefault();
        if (c.lag.bytes() > t.maxLagBytes()) {
            return "lag " + c.lag.bytes() + " bytes is above thresholds.maxLagBytes " + t.maxLagBytes();
        }
        if (c.lag.secondsSinceLastApplied() > t.maxLagSeconds()) {
            return "lag " + c.lag.secondsSinceLastApplied() + " s is above thresholds.maxLagSeconds " + t.maxLagSeconds();
        }
        return null;
    }

    @Override
    public void approve(String approver) {
        if (notReadyReason() == null) {
            approveCutover(approver);
        } else {
            log.info("approve signal ignored: {}", notReadyReason());
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
