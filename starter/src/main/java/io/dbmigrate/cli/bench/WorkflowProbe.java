package io.dbmigrate.cli.bench;

import io.dbmigrate.cli.migrate.MigrationCommands;
import io.dbmigrate.cli.migrate.WorkerAnswers;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowUpdateException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeoutException;

/**
 * One migration workflow seen from outside, with a deadline on every call: a fault may leave the workflow without a
 * worker that answers, and the harness must still see that, not hang on it. Queries and updates need a worker;
 * describe, signal, terminate and the result of a closed workflow are answered by the server alone.
 */
final class WorkflowProbe {
    private final WorkflowClient client;
    private final String workflowId;
    private volatile String lastProblem;
    private final AtomicInteger timeouts = new AtomicInteger();

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

    /** The {@code status} query (through the CLI's own deadline), or empty when no worker answered it in time. */
    Optional<MigrationStatus> status(Duration within) {
        try {
            return Optional.ofNullable(WorkerAnswers.status(client, workflowId, within));
        } catch (WorkerAnswers.NoWorkerAnswer e) {
            timeouts.incrementAndGet();
            lastProblem = "status query: " + e.getMessage();
            return Optional.empty();
        } catch (StatusRuntimeException | IllegalStateException e) {
            lastProblem = "status query: " + e.getMessage();
            return Optional.empty();
        }
    }

    /** What the server knows without asking a worker. */
    record Described(boolean closed, String executionStatus, String pending) {}

    Optional<Described> describe(Duration within) {
        try {
            DescribeWorkflowExecutionResponse d = WorkerAnswers.describe(client, workflowId, within);
            WorkflowExecutionStatus s = d.getWorkflowExecutionInfo().getStatus();
            List<String> view = WorkerAnswers.serverView(d);
            return Optional.of(new Described(s != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
                    s.name().replace("WORKFLOW_EXECUTION_STATUS_", ""), String.join("; ", view.subList(1, view.size()))));
        } catch (StatusRuntimeException e) {
            lastProblem = "describe: " + e.getStatus().getCode();
            return Optional.empty();
        }
    }

    /** The update {@code approveCutover} as {@code ./dbmigrate approve} sends it: true when the cutover was approved. */
    boolean approve(String approver, Duration within) {
        try {
            MigrationCommands.approve(client, workflowId, approver, within);
            return true;
        } catch (WorkflowUpdateException e) {
            lastProblem = "approval refused: " + MigrationCommands.rootMessage(e);
            return false;
        } catch (WorkerAnswers.NoWorkerAnswer e) {
            lastProblem = e.getMessage();
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

    /**
     * Ends the workflow unless it has ended: {@code abort} (the rollback runs if a worker runs the workflow), then terminate if it is still
     * open after {@code within}. Says which of the two ended it.
     */
    String abortOrTerminate(String reason, Duration within) throws InterruptedException {
        Optional<Described> before = describe(Duration.ofSeconds(5));
        if (before.map(Described::closed).orElse(false)) {
            return "the workflow had ended already (" + before.get().executionStatus() + ")";
        }
        try {
            abort(reason);
        } catch (RuntimeException e) {
            return "abort failed: " + e.getMessage();
        }
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Described> d = describe(Duration.ofSeconds(5));
            if (d.map(Described::closed).orElse(false)) {
                return "abort sent: the workflow then ended (" + d.get().executionStatus() + ")";
            }
            Thread.sleep(1000);
        }
        terminate(reason + "; abort did not end it");
        return "abort sent but not acted on within " + within.toSeconds() + " s: terminated";
    }

    /** Whether the status is a final one (the workflow ended or is about to return it). */
    static boolean ended(MigrationStatus s) {
        return s.state() == MigrationStatus.State.COMPLETED || s.state() == MigrationStatus.State.ROLLED_BACK
                || s.state() == MigrationStatus.State.FAILED;
    }

    /** Ends the workflow without running anything more: what it created stays behind. */
    void terminate(String reason) {
        client.newUntypedWorkflowStub(workflowId).terminate(reason);
    }
}
