package io.dbmigrate.cli.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ./dbmigrate validate}'s exit codes and printout against a stand-in workflow that answers the {@code validate}
 * update as the migration does, with a report that also carries a field this CLI's model lacks ({@code reportPath}).
 */
class ValidateCommandTest {
    /** The migration workflow's type, status query and validate update; the input says how validate answers. */
    @WorkflowInterface
    public interface StandIn {
        @WorkflowMethod(name = MigrationWorkflow.TYPE)
        void run(String verdict);

        @QueryMethod(name = "status")
        MigrationStatus status();

        @UpdateMethod(name = "validate")
        Map<String, Object> validate(String by);

        @UpdateValidatorMethod(updateName = "validate")
        void check(String by);
    }

    public static final class StandInImpl implements StandIn {
        private String verdict;

        @Override
        public void run(String verdict) {
            this.verdict = verdict;
            Workflow.await(() -> false);
        }

        @Override
        public MigrationStatus status() {
            return null;
        }

        @Override
        public void check(String by) {
            if (verdict.equals("refused")) {
                throw new IllegalStateException("cannot validate: the migration is not waiting for approval (phase snapshot)");
            }
        }

        @Override
        public Map<String, Object> validate(String by) {
            boolean differs = verdict.equals("differs");
            ValidationReport r = ValidationReport.of(false, List.of(
                    new TableValidation("public.accounts", 100, 100, 2, List.of()),
                    new TableValidation("public.orders", 100, differs ? 99 : 100, 2, differs ? List.of("id [1, 50)") : List.of())));
            @SuppressWarnings("unchecked")
            Map<String, Object> out = MigrationCommands.JSON.convertValue(r, Map.class);
            out.put("reportPath", "/var/lib/dbmigrate/reports/" + by + ".html");
            return out;
        }
    }

    private TestWorkflowEnvironment env;
    private WorkflowClient client;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        Worker worker = env.newWorker(MigrationWorkflow.TASK_QUEUE);
        worker.registerWorkflowImplementationTypes(StandInImpl.class);
        env.start();
        client = env.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    record Run(int exit, String out, String err) {}

    private Run validate(String verdict, boolean json) throws Exception {
        String wf = "migration-" + verdict;
        WorkflowClient.start(client.newWorkflowStub(StandIn.class, WorkflowOptions.newBuilder().setWorkflowId(wf)
                .setTaskQueue(MigrationWorkflow.TASK_QUEUE).build())::run, verdict);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = MigrationCommands.validate(client, wf, "alice", json, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void differencesExitOnePerTableWithTheReportsFile() throws Exception {
        Run r = validate("differs", false);
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.out().contains("validation requested by alice: DIFFERENCES in 1 of 2 tables (200 rows on the source, "
                + "199 on the target, 4 chunks)"), r.out());
        assertTrue(r.out().contains("  public.accounts  rows 100 / 100  chunks 2  differences 0\n"), r.out());
        assertTrue(r.out().contains("  public.orders    rows 100 / 99  chunks 2  differences 1: id [1, 50)\n"), r.out());
        assertTrue(r.out().contains("report: /var/lib/dbmigrate/reports/alice.html"), r.out());
        assertTrue(r.out().contains("approval is refused until a validation passes: ./dbmigrate validate differs again"), r.out());
    }

    @Test
    void passedExitsZeroAndJsonKeepsEveryField() throws Exception {
        Run r = validate("passes", true);
        assertEquals(0, r.exit(), r.err());
        JsonNode report = MigrationCommands.JSON.readTree(r.out());
        assertTrue(report.get("passed").asBoolean());
        assertEquals(2, report.get("tables").size());
        assertEquals("/var/lib/dbmigrate/reports/alice.html", report.get("reportPath").asText());
    }

    @Test
    void aRefusalExitsTwoWithTheWorkflowsReason() throws Exception {
        Run r = validate("refused", false);
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.err().contains("validation refused or not completed: cannot validate: the migration is not waiting "
                + "for approval (phase snapshot)"), r.err());
        assertEquals("", r.out());
    }
}
