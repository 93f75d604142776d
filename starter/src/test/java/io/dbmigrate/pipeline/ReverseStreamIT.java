package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.migration.Leftovers;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fallback direction: after a cutover the target is written to, and its changes flow back onto the source. */
class ReverseStreamIT {
    @Test
    void targetChangesFlowBackToTheSource() throws Exception {
        String db = "reverse";
        PipelineStack.freshDatabases(db);
        String[] ddl = {"CREATE TABLE acct (id int PRIMARY KEY, v text, n numeric(10,2))",
            "INSERT INTO acct SELECT g, 'v' || g, g * 1.5 FROM generate_series(1, 50) g"};
        PipelineStack.exec(PipelineStack.source(db), ddl);
        PipelineStack.exec(PipelineStack.target(db), ddl);
        StreamSpec reverse = new StreamSpec("rev", StreamSpec.Direction.REVERSE, PipelineStack.target(db), PipelineStack.source(db),
                List.of(new TableRef("public", "acct")), false);
        assertEquals("dbmigrate_rev_rev", reverse.slotName());
        PipelineStack.capture().prepare(reverse);
        try (ApplierThread a = new ApplierThread(reverse)) {
            StreamMonitor.awaitStreaming(reverse, Duration.ofSeconds(90));
            PipelineStack.exec(PipelineStack.target(db), "INSERT INTO acct VALUES (51, 'new on target', 0.25)",
                    "UPDATE acct SET v = 'changed on target' WHERE id <= 5", "DELETE FROM acct WHERE id = 50");
            StreamMonitor.drain(reverse, null, Duration.ofSeconds(60), s -> {});
            assertNull(a.failure());
            assertEquals(Compare.tableText(PipelineStack.target(db), "public.acct"), Compare.tableText(PipelineStack.source(db), "public.acct"));
            try (Connection c = Pg.connect(PipelineStack.target(db), "it"); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dbmigrate_rev_rev'")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "the reverse stream's slot lives on the target");
            }
        } finally {
            PipelineStack.capture().teardown(reverse);
            PipelineStack.exec(PipelineStack.source(db), "DROP SCHEMA IF EXISTS dbmigrate_rev CASCADE");
        }
        List<String> left = Leftovers.list(PipelineStack.source(db), PipelineStack.target(db), PipelineStack.connect());
        assertTrue(left.isEmpty(), "leftovers: " + left);
    }
}
