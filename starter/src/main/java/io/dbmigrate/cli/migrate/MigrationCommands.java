package io.dbmigrate.cli.migrate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.common.WorkflowExecutionHistory;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** start, status, watch, approve, abort, history: each the equivalent of one temporal CLI call (docs/temporal-cli.md). */
public final class MigrationCommands {
    static final ObjectMapper JSON = new ObjectMapper();

    private MigrationCommands() {}

    public static String startMigration(WorkflowClient client, MigrationPlan plan) {
        WorkflowOptions options = WorkflowOptions.newBuilder()
                .setWorkflowId(plan.workflowId())
                .setTaskQueue(MigrationWorkflow.TASK_QUEUE)
                .setMemo(Map.of("migrationId", plan.migrationId(), "source", plan.source().describe(),
                        "target", plan.target().describe()))
                .build();
        MigrationWorkflow wf = client.newWorkflowStub(MigrationWorkflow.class, options);
        WorkflowClient.start(wf::migrate, plan);
        return plan.workflowId();
    }

    /** The status query, answered within {@link WorkerAnswers#WAIT} or a {@link WorkerAnswers.NoWorkerAnswer}. */
    public static MigrationStatus status(WorkflowClient client, String workflowId) {
        return WorkerAnswers.status(client, workflowId, WorkerAnswers.WAIT);
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a migration from a plan file (JSON).")
    public static final class Start implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Option(names = "--plan", required = true, paramLabel = "FILE", description = "The plan (see docs/plan.md).") Path plan;

        @Override
        public Integer call() {
            MigrationPlan p = PlanFile.read(plan);
            String id = startMigration(temporal.client(), p);
            PrintWriter out = spec.commandLine().getOut();
            out.println("started " + id + " (task queue " + MigrationWorkflow.TASK_QUEUE + ")");
            out.println("follow it: ./dbmigrate watch " + p.migrationId());
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Phase, tables, lag, validation and timings of a migration.")
    public static final class Status implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "ID", description = "Migration id (or workflow id).") String id;
        @Option(names = "--json", description = "One JSON object.") boolean json;

        @Override
        public Integer call() throws Exception {
            WorkflowClient client = temporal.client();
            String wf = TemporalOptions.workflowId(id);
            var described = WorkerAnswers.describe(client, wf);
            MigrationStatus s = WorkerAnswers.status(client, wf, WorkerAnswers.WAIT, described);
            // while the initial copy runs, its per-table progress is in the activity's heartbeat, not in the workflow
            com.fasterxml.jackson.databind.node.ObjectNode doc = JSON.valueToTree(s);
            Watch.copyProgress(described).ifPresent(p -> doc.set("snapshotCopyProgress", JSON.valueToTree(p)));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(JSON.writeValueAsString(doc));
            } else {
                out.println(JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            }
            return 0;
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = "Approve the cutover (Update approveCutover; refused while lag or validation is not good).")
    public static final class Approve implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--by", defaultValue = "${sys:user.name}", description = "Who approves (default: ${DEFAULT-VALUE}).") String by;

        @Override
        public Integer call() {
            String workflowId = TemporalOptions.workflowId(id);
            try {
                spec.commandLine().getOut().println(approve(temporal.client(), workflowId, by, APPROVE_WAIT));
                return 0;
            } catch (WorkflowUpdateException e) {
                spec.commandLine().getErr().println("approval refused: " + rootMessage(e));
                return 3;
            } catch (WorkerAnswers.NoWorkerAnswer e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 4;
            }
        }
    }

    /** The update reads the lag with a short activity: a worker that answered the probe answers well within this. */
    static final java.time.Duration APPROVE_WAIT = java.time.Duration.ofSeconds(30);

    /**
     * Sends approveCutover only after a worker answered the status query (an update sent with no worker would wait
     * for one and could be applied hours later), and waits for its result at most {@code wait}.
     */
    public static String approve(WorkflowClient client, String workflowId, String by, java.time.Duration wait) {
        WorkerAnswers.requireWorker(client, workflowId, "approval");
        WorkflowStub stub = client.newUntypedWorkflowStub(workflowId);
        io.temporal.client.WorkflowUpdateHandle<String> handle = stub.startUpdate(
                io.temporal.client.UpdateOptions.newBuilder(String.class).setUpdateName("approveCutover")
                        .setWaitForStage(io.temporal.client.WorkflowUpdateStage.ACCEPTED).build(), by);
        try {
            return handle.getResultAsync().get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new WorkerAnswers.NoWorkerAnswer("approval accepted but not decided within " + wait.toSeconds()
                    + " s (it reads the lag first): ./dbmigrate status " + workflowId + " shows whether it was approved");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Roll the migration back (signal abort).")
    public static final class Abort implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--reason", defaultValue = "operator request") String reason;

        @Override
        public Integer call() {
            temporal.client().newWorkflowStub(MigrationWorkflow.class, TemporalOptions.workflowId(id)).abort(reason);
            spec.commandLine().getOut().println("abort sent to " + TemporalOptions.workflowId(id) + "; ./dbmigrate watch " + id + " shows the rollback");
            return 0;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "The workflow history as JSON (for incidents and replay tests).")
    public static final class History implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            WorkflowExecutionHistory h = temporal.client().fetchHistory(TemporalOptions.workflowId(id));
            spec.commandLine().getOut().println(h.toJson(true));
            return 0;
        }
    }

    public static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage();
    }

    /** Waits for the workflow's result (a status), or the failure that ended it. */
    public static MigrationStatus result(WorkflowClient client, String workflowId) {
        return WorkflowStub.fromTyped(client.newWorkflowStub(MigrationWorkflow.class, workflowId)).getResult(MigrationStatus.class);
    }
}
