package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One migration. Start: workflow type {@code Migration}, task queue {@code dbmigrate}, id {@code migration-<id>},
 * input the plan JSON. Operate with the updates {@code approveCutover}, {@code validate}, {@code rollback} and
 * {@code finalize}, the signals {@code approve} and {@code abort}, the query {@code status}.
 */
@WorkflowInterface
public interface MigrationWorkflow {
    String TYPE = "Migration";
    String TASK_QUEUE = "dbmigrate";

    @WorkflowMethod(name = TYPE)
    MigrationStatus migrate(MigrationPlan plan);

    /** Approves the cutover; rejected (nothing recorded) unless validation passed and lag is under the thresholds. */
    @UpdateMethod(name = "approveCutover")
    String approveCutover(String approver);

    @UpdateValidatorMethod(updateName = "approveCutover")
    void validateApproveCutover(String approver);

    /**
     * While the migration waits for approval: runs the live validation again (ValidateData, the applier running) and
     * answers with its report, which becomes the current validation (status) and the one approval requires to have
     * passed. Differences found do not fail the migration; neither does a failure of the run itself (the update fails,
     * the previous validation stays current). Refused in other phases, while an approval is being checked, or while
     * another validation runs. Input: who asks.
     */
    @UpdateMethod(name = "validate")
    ValidationReport validateNow(String by);

    @UpdateValidatorMethod(updateName = "validate")
    void validateValidateNow(String by);

    /** Same meaning as {@code approveCutover}, for UIs that only send signals; ignored while not ready. */
    @SignalMethod(name = "approve")
    void approve(String approver);

    /** Rolls the migration back (before the cutover's point of no return). */
    @SignalMethod(name = "abort")
    void abort(String reason);

    /**
     * During the fallback window: pause writes on the target, drain the reverse stream, reopen the old source, and
     * remove the migration (target objects included). Answers once done; fails (and the window stays open, on the
     * target) if a step failed before the old source reopened.
     */
    @UpdateMethod(name = "rollback")
    String rollback(String by);

    @UpdateValidatorMethod(updateName = "rollback")
    void validateRollback(String by);

    /** Ends the fallback window: both streams removed, the old source retired (read-only), the target keeps the data. */
    @UpdateMethod(name = "finalize")
    String finalizeCutover(String by);

    @UpdateValidatorMethod(updateName = "finalize")
    void validateFinalizeCutover(String by);

    /** Sent by the WatchStream activity while the migration waits for approval. */
    @SignalMethod(name = "lagReport")
    void lagReport(StreamLag lag);

    @QueryMethod(name = "status")
    MigrationStatus status();
}
