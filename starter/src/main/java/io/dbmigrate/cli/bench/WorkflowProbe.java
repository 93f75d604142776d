package io.dbmigrate.cli.bench;

import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.query.v1.WorkflowQuery;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflow.v1.PendingWorkflowTaskInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.api.workflowservice.v1.QueryWorkflowRequest;
import io.temporal.api.workflowservice.v1.QueryWorkflowResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.common.converter.DefaultDataConverter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One migration workflow seen from outside, with a deadline on every call: a fault may leave the workflow without a
 * worker that answers, and the harness must still see that, not hang on it. Queries and updates need a worker;
 * describe, signal, terminate and the result of a closed workflow are answered by the server alone.
 */
final class WorkflowProbe {
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "workflow-probe");
        t.setDaemon(true);
        return t;
    });

    private final WorkflowClient client;
    private final String workflowId;
    private volatile String lastProblem;
    private final java.util.concurrent.atomic.AtomicInteger timeouts = new java.util.concurrent.atomic.AtomicInteger();

    WorkflowProbe(WorkflowClient client, String workflowId) {
        this.client = client;
        this.workflowId = workflowId;
    }

    /** Status queries that no worker answered within their deadline. */
    int timeouts() {
        return timeouts.get();
    }

    /** Why the last query or update did not answer. */
    String lastProblem() {
        return lastProblem;
    }

    private WorkflowServiceGrpc.WorkflowServiceBlockingStub stub(Duration within) {
        return client.getWorkflowServiceStubs().blockingStub().withDeadlineAfter(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    private WorkflowExecution execution() {
        return WorkflowExecution.newBuilder().setWorkflowId(workflowId).build();
    }

    /** The {@code status} query, or empty when no worker answered it in time. */
    Optional<MigrationStatus> status(Duration within) {
        try {
            QueryWorkflowResponse r = stub(within).queryWorkflow(QueryWorkflowRequest.newBuilder()
                    .setNamespace(client.getOptions().getNamespace()).setExecution(execution())
                    .setQuery(WorkflowQuery.newBuilder().setQueryType("status")).build());
            return Optional.ofNullable(DefaultDataConverter.newDefaultInstance().fromPayloads(0,
                    Optional.of(r.getQueryResult()), MigrationStatus.class, MigrationStatus.class));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED) {
                timeouts.incrementAndGet();
            }
            lastProblem = "status query: " + e.getStatus().getCode() + (e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED
                    ? " after " + within.toSeconds() + " s" : " " + e.getStatus().getDescription());
            return Optional.empty();
        }
    }

    /** What the server knows without asking a worker. */
    record Described(boolean closed, String executionStatus, String pending) {}

    Optional<Described> describe(Duration within) {
        try {
            DescribeWorkflowExecutionResponse d = stub(within).describeWorkflowExecution(DescribeWorkflowExecutionRequest
                    .newBuilder().setNamespace(client.getOptions().getNamespace()).setExecution(execution()).build());
            WorkflowExecutionStatus s = d.getWorkflowExecutionInfo().getStatus();
            List<String> pending = new ArrayList<>();
            if (d.hasPendingWorkflowTask()) {
                PendingWorkflowTaskInfo t = d.getPendingWorkflowTask();
                pending.add(String.format("workflow task %s for %d s (attempt %d)", t.getState().name()
                        .replace("PENDING_WORKFLOW_TASK_STATE_", ""), secondsSince(t.getOriginalScheduledTime()), t.getAttempt()));
            }
            for (PendingActivityInfo a : d.getPendingActivitiesList()) {
                pending.add(String.format("%s %s attempt %d%s", a.getActivityType().getName(),
                        a.getState().name().replace("PENDING_ACTIVITY_STATE_", ""), a.getAttempt(),
                        a.hasLastFailure() ? " (last failure: " + describe(a.getLastFailure()) + ")" : ""));
            }
            return Optional.of(new Described(s != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
                    s.name().replace("WORKFLOW_EXECUTION_STATUS_", ""), String.join("; ", pending)));
        } catch (StatusRuntimeException e) {
            lastProblem = "describe: " + e.getStatus().getCode();
            return Optional.empty();
        }
    }

    private static String describe(io.temporal.api.failure.v1.Failure f) {
        if (f.hasTimeoutFailureInfo()) {
            return f.getTimeoutFailureInfo().getTimeoutType().name().replace("TIMEOUT_TYPE_", "") + " timeout";
        }
        return f.getMessage();
    }

    private static long secondsSince(com.google.protobuf.Timestamp t) {
        return t.getSeconds() == 0 ? 0 : System.currentTimeMillis() / 1000 - t.getSeconds();
    }

    /** The update {@code approveCutover}: true when accepted; false when refused or not answered in time. */
    boolean approve(String approver, Duration within) {
        MigrationWorkflow wf = client.newWorkflowStub(MigrationWorkflow.class, workflowId);
        try {
            CompletableFuture.supplyAsync(() -> wf.approveCutover(approver), CALLS).get(within.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            lastProblem = "approval refused: " + (c instanceof WorkflowUpdateException u && u.getCause() != null
                    ? u.getCause().getMessage() : String.valueOf(c));
            return false;
        } catch (TimeoutException e) {
            lastProblem = "approveCutover not answered within " + within.toSeconds() + " s";
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The workflow's result once it is closed: its status, or the failure that ended it as a message. */
    record Result(MigrationStatus status, String failure) {}

    Result result(Duration within) {
        try {
            return new Result(client.newUntypedWorkflowStub(workflowId)
                    .getResult(within.toMillis(), TimeUnit.MILLISECONDS, MigrationStatus.class), null);
        } catch (WorkflowFailedException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            return new Result(null, c.getMessage());
        } catch (TimeoutException e) {
            return new Result(null, "no result within " + within.toSeconds() + " s");
        }
    }

    /** The signal {@code abort}: the workflow rolls back if a worker runs it. */
    void abort(String reason) {
        client.newUntypedWorkflowStub(workflowId).signal("abort", reason);
    }

    /** Ends the workflow without running anything more: what it created stays behind. */
    void terminate(String reason) {
        client.newUntypedWorkflowStub(workflowId).terminate(reason);
    }
}
