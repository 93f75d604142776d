package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ApplyDataException;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A change the target refuses stops the applier with the table, the key, the source LSN and the database's message;
 * nothing of its transaction nor after it is applied, and once the target is fixed every change lands exactly once.
 */
class DataErrorIT {
    private static long[] countAndSum(Endpoint e) throws SQLException {
        try (Connection c = Pg.connect(e, "it"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*), coalesce(sum(qty), 0) FROM items")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        }
    }

    /** Source and target with the table {@code items}, and a prepared capture of it named after the database. */
    private static StreamSpec itemsStream(String db, String targetDdl) throws Exception {
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), "CREATE TABLE items (id int PRIMARY KEY, qty int, note text)");
        PipelineStack.exec(PipelineStack.target(db), targetDdl);
        StreamSpec spec = PipelineStack.forward(db, db, List.of(new TableRef("public", "items")), false);
        PipelineStack.capture().prepare(spec);
        return spec;
    }

    private static void assertSameItems(String db, long rows) throws SQLException {
        long[] source = countAndSum(PipelineStack.source(db));
        assertEquals(rows, source[0]);
        long[] target = countAndSum(PipelineStack.target(db));
        assertEquals(source[0], target[0]);
        assertEquals(source[1], target[1]);
    }

    @Test
    void aRowTheTargetRefusesStopsTheApplierNamingItAndNothingIsSkipped() throws Exception {
        String db = "dataerr";
        // the target is stricter than the source: a schema drift the applier must not paper over
        StreamSpec spec = itemsStream(db,
                "CREATE TABLE items (id int PRIMARY KEY, qty int CONSTRAINT qty_limit CHECK (qty < 1000), note text)");
        Endpoint src = PipelineStack.source(db);
        Endpoint dst = PipelineStack.target(db);
        try {
            try (ApplierThread a = new ApplierThread(spec)) {
                StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
                PipelineStack.exec(src, "INSERT INTO items SELECT g, g, 'first' FROM generate_series(1, 10) g");
                StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
                // one source transaction of 50 rows, one of which (id 37) the target refuses; then one more transaction
                PipelineStack.exec(src, "INSERT INTO items SELECT g, CASE WHEN g = 37 THEN 5000 ELSE g END, 'batch'"
                        + " FROM generate_series(11, 60) g");
                PipelineStack.exec(src, "INSERT INTO items VALUES (61, 1, 'after')");
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (a.failure() == null && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                Throwable failure = a.failure();
                assertNotNull(failure, "the applier did not stop");
                assertTrue(failure instanceof ApplyDataException, failure.toString());
                String m = failure.getMessage();
                assertTrue(m.contains("public.items") && m.contains("id=37") && m.contains("source LSN")
                        && m.contains("SQLSTATE 23514") && m.contains("qty_limit"), m);
                // the refused transaction is not applied in part, and nothing after it is applied
                assertEquals(10, countAndSum(dst)[0]);
                assertEquals(1, a.applier().refusedBatches());
            }
            // the operator fixes the target; the applier resumes from its position: nothing skipped, nothing twice
            PipelineStack.exec(dst, "ALTER TABLE items DROP CONSTRAINT qty_limit");
            try (ApplierThread a = new ApplierThread(spec)) {
                StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
                assertEquals(null, a.failure());
            }
            assertSameItems(db, 61);
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /**
     * Inserts and whole-row updates of one table are the same upsert, so they share one batch, which goes out as
     * multi-row INSERTs. One INSERT .. ON CONFLICT DO UPDATE cannot touch a row twice (SQLSTATE 21000): the run is cut
     * where a key comes back, so no batch is refused and applied again one change at a time.
     */
    @Test
    void aRowUpsertedTwiceInOneGroupNeedsNoFallback() throws Exception {
        String db = "upsert2";
        StreamSpec spec = itemsStream(db, "CREATE TABLE items (id int PRIMARY KEY, qty int, note text)");
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            // one source transaction
            PipelineStack.exec(PipelineStack.source(db), "BEGIN",
                    "INSERT INTO items SELECT g, g, 'new' FROM generate_series(1, 50) g",
                    "UPDATE items SET qty = qty * 2, note = 'updated'",
                    "UPDATE items SET qty = qty + 1 WHERE id % 3 = 0", "COMMIT");
            StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            assertEquals(null, a.failure());
            assertEquals(0, a.applier().refusedBatches());
            assertSameItems(db, 50);
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
