package io.dbmigrate.cli.migrate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dbmigrate.workflows.codec.CodecKeys;
import io.dbmigrate.workflows.codec.Codecs;
import io.dbmigrate.workflows.codec.EncryptionCodec;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.dbmigrate.workflows.workflow.SearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.common.WorkflowExecutionHistory;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** start, status, watch, approve, validate, rollback, finalize, abort, history: each the equivalent of one temporal CLI call (docs/temporal-cli.md). */
public final class MigrationCommands {
    static final ObjectMapper JSON = new ObjectMapper();

    private MigrationCommands() {}

    public static String startMigration(WorkflowClient client, MigrationPlan plan) {
        start(client, plan, false);
        return plan.workflowId();
    }

    /** Whether {@code start} sets dbmigrate's search attributes. */
    public enum SearchAttributeMode {
        /** when the namespace has all four registered as Keyword (ListSearchAttributes) */
        auto,
        /** always: a server without them refuses the start, naming the attribute */
        always,
        never
    }

    /** Starts the migration; answers whether it was started with dbmigrate's search attributes. */
    public static boolean startMigration(WorkflowClient client, MigrationPlan plan, SearchAttributeMode mode) {
        boolean set = switch (mode) {
            case always -> true;
            case never -> false;
            case auto -> searchAttributesRegistered(client);
        };
        start(client, plan, set);
        return set;
    }

    private static void start(WorkflowClient client, MigrationPlan plan, boolean searchAttributes) {
        WorkflowOptions.Builder options = WorkflowOptions.newBuilder()
                .setWorkflowId(plan.workflowId())
                .setTaskQueue(MigrationWorkflow.TASK_QUEUE)
                .setMemo(Map.of("migrationId", plan.migrationId(), "source", plan.source().describe(),
                        "target", plan.target().describe()));
        if (searchAttributes) {
            options.setTypedSearchAttributes(SearchAttributes.atStart(plan));
        }
        MigrationWorkflow wf = client.newWorkflowStub(MigrationWorkflow.class, options.build());
        WorkflowClient.start(wf::migrate, plan);
    }

    /**
     * True when the client's namespace has every dbmigrate search attribute registered as Keyword. A server that
     * cannot say (no operator service, no visibility store, no permission) counts as not having them.
     */
    public static boolean searchAttributesRegistered(WorkflowClient client) {
        OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(OperatorServiceStubsOptions.newBuilder()
                .setChannel(client.getWorkflowServiceStubs().getRawChannel()).validateAndBuildWithDefaults());
        try {
            Map<String, IndexedValueType> custom = operator.blockingStub()
                    .withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS)
                    .listSearchAttributes(ListSearchAttributesRequest.newBuilder()
                            .setNamespace(client.getOptions().getNamespace()).build())
                    .getCustomAttributesMap();
            return SearchAttributes.ALL.stream()
                    .allMatch(k -> custom.get(k.getName()) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
        } catch (io.grpc.StatusRuntimeException e) {
            return false;
        }
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
        @Option(names = "--search-attributes", arity = "0..1", fallbackValue = "always", defaultValue = "auto",
                paramLabel = "auto|always|never",
                description = "Set MigrationId, MigrationPhase, SourceHost, TargetHost (docs/temporal-cli.md): auto (default) "
                        + "when the namespace has them registered; the bare option means always.")
        SearchAttributeMode searchAttributes;

        @Override
        public Integer call() {
            MigrationPlan p = PlanFile.read(plan);
            boolean withAttributes = startMigration(temporal.client(), p, searchAttributes);
            PrintWriter out = spec.commandLine().getOut();
            out.println("started " + p.workflowId() + " (task queue " + MigrationWorkflow.TASK_QUEUE + ")"
                    + (withAttributes ? ", search attributes: MigrationId=" + p.migrationId() : ""));
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
            Watch.copyProgress(described, client.getOptions().getDataConverter()).ifPresent(p -> doc.set("snapshotCopyProgress", JSON.valueToTree(p)));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(JSON.writeValueAsString(doc));
            } else {
                out.println(JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            }
            return 0;
        }
    }

    /** One named Update of the workflow, sent only once a worker answers; exit 3 when refused, 4 when no worker. */
    abstract static class UpdateCommand implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--by", defaultValue = "${sys:user.name}", description = "Who decides (default: ${DEFAULT-VALUE}).") String by;
        private final String updateName;
        /** How messages name it. */
        private final String what;
        private final java.time.Duration wait;

        UpdateCommand(String updateName, String what, java.time.Duration wait) {
            this.updateName = updateName;
            this.what = what;
            this.wait = wait;
        }

        @Override
        public Integer call() {
            String workflowId = TemporalOptions.workflowId(id);
            try {
                spec.commandLine().getOut().println(update(temporal.client(), workflowId, updateName, what, by, wait));
                return 0;
            } catch (WorkflowUpdateException e) {
                spec.commandLine().getErr().println(what + " refused: " + rootMessage(e));
                return 3;
            } catch (WorkerAnswers.NoWorkerAnswer e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 4;
            }
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true,
            description = "Approve the cutover (Update approveCutover; refused while lag or validation is not good).")
    public static final class Approve extends UpdateCommand {
        public Approve() {
            super("approveCutover", "approval", APPROVE_WAIT);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "During the fallback window after a cutover: go back to the old source (Update rollback). "
                    + "Writes pause, the reverse stream drains, the old source reopens; answers when done.")
    public static final class Rollback extends UpdateCommand {
        public Rollback() {
            super("rollback", "rollback", DECIDE_WAIT);
        }
    }

    @Command(name = "finalize", mixinStandardHelpOptions = true,
            description = "End the fallback window (Update finalize): both streams removed, the old source made read-only "
                    + "and everything of dbmigrate removed from both sides.")
    public static final class Finalize extends UpdateCommand {
        public Finalize() {
            super("finalize", "finalize", DECIDE_WAIT);
        }
    }

    /** The update reads the lag with a short activity: a worker that answered the probe answers well within this. */
    static final java.time.Duration APPROVE_WAIT = java.time.Duration.ofSeconds(30);
    /** Rollback and finalize run their steps before they answer (a drain, then the removal of both streams). */
    static final java.time.Duration DECIDE_WAIT = java.time.Duration.ofMinutes(10);

    public static String approve(WorkflowClient client, String workflowId, String by, java.time.Duration wait) {
        return update(client, workflowId, "approveCutover", "approval", by, wait);
    }

    /**
     * Sends the update only after a worker answered the status query (an update sent with no worker would wait for
     * one and could be applied hours later), and waits for its result at most {@code wait}.
     */
    public static String update(WorkflowClient client, String workflowId, String updateName, String what, String by,
            java.time.Duration wait) {
        return update(client, workflowId, updateName, what, by, wait, String.class);
    }

    /** As {@link #update(WorkflowClient, String, String, String, String, java.time.Duration)}, for any JSON result. */
    public static <T> T update(WorkflowClient client, String workflowId, String updateName, String what, String by,
            java.time.Duration wait, Class<T> resultType) {
        WorkerAnswers.requireWorker(client, workflowId, what);
        WorkflowStub stub = client.newUntypedWorkflowStub(workflowId);
        io.temporal.client.WorkflowUpdateHandle<T> handle = stub.startUpdate(
                io.temporal.client.UpdateOptions.newBuilder(resultType).setUpdateName(updateName)
                        .setWaitForStage(io.temporal.client.WorkflowUpdateStage.ACCEPTED).build(), by);
        try {
            return handle.getResultAsync().get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new WorkerAnswers.NoWorkerAnswer(what + " accepted but not done within " + wait.toSeconds()
                    + " s: ./dbmigrate status " + workflowId + " shows how it went");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The live validation reads both sides whole: as long as its activity may run (MigrationContext's longSteps). */
    static final java.time.Duration VALIDATE_WAIT = java.time.Duration.ofHours(12);

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "While the migration waits for approval: run the live validation again now (Update validate) "
                    + "and print its report. It becomes the validation status shows and approval requires to have passed; "
                    + "differences do not fail the migration. Exit 0 passed, 1 differences, 2 refused or not completed.")
    public static final class Validate implements Callable<Integer> {
        @Mixin TemporalOptions temporal;
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "ID", description = "Migration id (or workflow id).") String id;
        @Option(names = "--by", defaultValue = "${sys:user.name}", description = "Who asks, kept in the workflow's history "
                + "(default: ${DEFAULT-VALUE}).") String by;
        @Option(names = "--json", description = "The report as one JSON object.") boolean json;

        @Override
        public Integer call() throws Exception {
            return validate(temporal.client(), TemporalOptions.workflowId(id), by, json, spec.commandLine().getOut(),
                    spec.commandLine().getErr());
        }
    }

    /** The validate update and its printout; the exit code: 0 passed, 1 differences, 2 refused or not completed. */
    static int validate(WorkflowClient client, String workflowId, String by, boolean json, PrintWriter out, PrintWriter err)
            throws Exception {
        com.fasterxml.jackson.databind.JsonNode report;
        try {
            // as a tree: the report may carry fields this CLI does not know yet
            report = update(client, workflowId, "validate", "validation", by, VALIDATE_WAIT,
                    com.fasterxml.jackson.databind.JsonNode.class);
        } catch (WorkflowUpdateException e) {
            err.println("validation refused or not completed: " + workflowsMessage(e));
            return 2;
        } catch (WorkerAnswers.NoWorkerAnswer e) {
            err.println(e.getMessage());
            return 2;
        }
        boolean passed = report.path("passed").asBoolean(false);
        if (json) {
            out.println(JSON.writeValueAsString(report));
        } else {
            printReport(out, report, by);
            if (!passed) {
                String id = workflowId.replaceFirst("^migration-", "");
                out.println("approval is refused until a validation passes: ./dbmigrate validate " + id
                        + " again once the cause is fixed, or ./dbmigrate abort " + id + " (RUNBOOK.md)");
            }
        }
        out.flush();
        return passed ? 0 : 1;
    }

    /** One line for the run, one per table (rows on each side, chunks, differing chunks), the report's file if any. */
    static void printReport(PrintWriter out, com.fasterxml.jackson.databind.JsonNode tree, String by) throws Exception {
        // read leniently: the report may carry fields this CLI does not know yet
        ValidationReport r = JSON.copy().disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .treeToValue(tree, ValidationReport.class);
        long differing = r.tables().stream().filter(t -> !t.matches()).count();
        out.println("validation requested by " + by + ": " + (r.passed() ? "PASSED" : "DIFFERENCES in " + differing + " of "
                + r.tables().size() + " tables") + " (" + r.rowsSource() + " rows on the source, " + r.rowsTarget()
                + " on the target, " + r.chunks() + " chunks)");
        int width = r.tables().stream().mapToInt(t -> t.table().length()).max().orElse(0);
        for (TableValidation t : r.tables()) {
            List<String> chunks = t.mismatchedChunks() == null ? List.of() : t.mismatchedChunks();
            StringBuilder line = new StringBuilder(String.format("  %-" + width + "s  rows %d / %d  chunks %d  differences %d",
                    t.table(), t.sourceRows(), t.targetRows(), t.chunks(), chunks.size()));
            if (!chunks.isEmpty()) {
                line.append(": ").append(String.join(", ", chunks.subList(0, Math.min(5, chunks.size()))))
                        .append(chunks.size() > 5 ? ", ..." : "");
            }
            if (t.unsettled() != null) {
                line.append("  unsettled (left to the exact check in the write pause): ").append(t.unsettled());
            }
            out.println(line);
        }
        if (tree.hasNonNull("reportPath")) {
            out.println("report: " + tree.get("reportPath").asText());
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
            String wf = TemporalOptions.workflowId(id);
            WorkflowExecutionHistory h = temporal.client().fetchHistory(wf);
            // the server hands history over as stored: with the codec's key, print it as the workflow saw it
            Optional<CodecKeys> keys = temporal.codecKeys();
            if (keys.isPresent()) {
                h = new WorkflowExecutionHistory(Codecs.decode(h.getHistory(), new EncryptionCodec(keys.get())), wf);
            }
            spec.commandLine().getOut().println(h.toJson(true));
            return 0;
        }
    }

    /** The workflow's own words: the innermost ApplicationFailure's message without the SDK's type and flags. */
    static String workflowsMessage(Throwable t) {
        String m = rootMessage(t);
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof io.temporal.failure.ApplicationFailure af) {
                m = af.getOriginalMessage();
            }
        }
        return m;
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
