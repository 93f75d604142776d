package io.dbmigrate.cli.migrate;

import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.query.v1.WorkflowQuery;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflow.v1.PendingWorkflowTaskInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.api.workflowservice.v1.QueryWorkflowRequest;
import io.temporal.api.workflowservice.v1.QueryWorkflowResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.common.converter.DataConverter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What needs a worker to answer (the {@code status} query, the {@code approveCutover} update) is asked with a
 * deadline, so the CLI never hangs when no worker polls the task queue: it says so, with what the server itself
 * knows (state, pending activities, their last heartbeat). A closed migration's status is its result, read from
 * the history, which needs no worker.
 */
public final class WorkerAnswers {
    /** How long a worker has to answer before the CLI says none does. */
    public static final Duration WAIT = Duration.ofSeconds(5);

    private WorkerAnswers() {}

    /** No worker answered in time; the message says what the server knows and what to check. */
    public static final class NoWorkerAnswer extends RuntimeException {
        NoWorkerAnswer(String message) {
            super(message);
        }
    }

    public static MigrationStatus status(WorkflowClient client, String workflowId, Duration wait) {
        return status(client, workflowId, wait, describe(client, workflowId));
    }

    /** The same, with the server's description already read (watch reads it once a second for the applier too). */
    public static MigrationStatus status(WorkflowClient client, String workflowId, Duration wait,
            DescribeWorkflowExecutionResponse d) {
        WorkflowExecutionStatus state = d.getWorkflowExecutionInfo().getStatus();
        if (state != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
            // the result is in the history; a query on a closed workflow would need a worker to replay it
            try {
                return WorkflowStub.fromTyped(client.newWorkflowStub(MigrationWorkflow.class, workflowId))
                        .getResult(wait.toMillis(), TimeUnit.MILLISECONDS, MigrationStatus.class);
            } catch (WorkflowFailedException e) {
                throw new IllegalStateException(workflowId + " ended " + state.name().replace("WORKFLOW_EXECUTION_STATUS_", "")
                        + " without a status: " + MigrationCommands.rootMessage(e), e);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new NoWorkerAnswer(workflowId + ": the server did not return its result within " + wait.toSeconds() + " s");
            }
        }
        QueryWorkflowRequest q = QueryWorkflowRequest.newBuilder().setNamespace(client.getOptions().getNamespace())
                .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                .setQuery(WorkflowQuery.newBuilder().setQueryType("status")).build();
        try {
            QueryWorkflowResponse r = client.getWorkflowServiceStubs().blockingStub()
                    .withDeadlineAfter(wait.toMillis(), TimeUnit.MILLISECONDS).queryWorkflow(q);
            DataConverter dc = client.getOptions().getDataConverter();
            return dc.fromPayloads(0, r.hasQueryResult() ? Optional.of(r.getQueryResult()) : Optional.empty(),
                    MigrationStatus.class, MigrationStatus.class);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
                throw new NoWorkerAnswer(noAnswer(client, workflowId, wait, "the status query"));
            }
            throw e;
        }
    }

    /** Throws {@link NoWorkerAnswer} unless a worker answers the status query now (asked before an update is sent). */
    public static void requireWorker(WorkflowClient client, String workflowId, String what) {
        try {
            status(client, workflowId, WAIT);
        } catch (NoWorkerAnswer e) {
            throw new NoWorkerAnswer(what + " not sent: " + e.getMessage());
        }
    }

    static String noAnswer(WorkflowClient client, String workflowId, Duration wait, String what) {
        StringBuilder b = new StringBuilder("no worker answered " + what + " of " + workflowId + " within "
                + wait.toSeconds() + " s: is a dbmigrate worker polling task queue '" + MigrationWorkflow.TASK_QUEUE + "'?");
        try {
            b.append(" The server says: ").append(String.join("; ", serverView(describe(client, workflowId))));
        } catch (RuntimeException e) {
            b.append(" (describe failed: ").append(e.getMessage()).append(')');
        }
        b.append(". Local stack: ./dbmigrate stack status, and ./dbmigrate stack up restarts a dead worker; the migration"
                + " resumes where it was. On a cluster: temporal task-queue describe --task-queue "
                + MigrationWorkflow.TASK_QUEUE + " lists the pollers.");
        return b.toString();
    }

    /** The workflow's state, then its pending workflow task and activities, as the server alone knows them. */
    public static List<String> serverView(DescribeWorkflowExecutionResponse d) {
        List<String> out = new ArrayList<>();
        out.add("workflow " + d.getWorkflowExecutionInfo().getStatus().name().replace("WORKFLOW_EXECUTION_STATUS_", ""));
        long now = Instant.now().getEpochSecond();
        if (d.hasPendingWorkflowTask()) {
            PendingWorkflowTaskInfo t = d.getPendingWorkflowTask();
            out.add("workflow task " + t.getState().name().replace("PENDING_WORKFLOW_TASK_STATE_", "") + " for "
                    + (t.getOriginalScheduledTime().getSeconds() == 0 ? 0 : now - t.getOriginalScheduledTime().getSeconds())
                    + " s (attempt " + t.getAttempt() + ")");
        }
        for (PendingActivityInfo p : d.getPendingActivitiesList()) {
            String s = p.getActivityType().getName() + " " + p.getState().name().replace("PENDING_ACTIVITY_STATE_", "")
                    + " attempt " + p.getAttempt();
            if (p.hasLastHeartbeatTime()) {
                s += ", last heartbeat " + (now - p.getLastHeartbeatTime().getSeconds()) + " s ago";
            }
            if (p.hasLastFailure()) {
                Failure f = p.getLastFailure();
                s += ", last failure: " + (f.hasTimeoutFailureInfo()
                        ? f.getTimeoutFailureInfo().getTimeoutType().name().replace("TIMEOUT_TYPE_", "") + " timeout"
                        : f.getMessage());
            }
            out.add(s);
        }
        return out;
    }

    public static DescribeWorkflowExecutionResponse describe(WorkflowClient client, String workflowId) {
        return describe(client, workflowId, WAIT);
    }

    public static DescribeWorkflowExecutionResponse describe(WorkflowClient client, String workflowId, Duration wait) {
        return client.getWorkflowServiceStubs().blockingStub().withDeadlineAfter(wait.toMillis(), TimeUnit.MILLISECONDS)
                .describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace(client.getOptions().getNamespace())
                        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build());
    }
}
