package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ApplierConflictException;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One applier per stream: a second one is refused while the first holds the stream's lock on the target. */
class SingleApplierIT {
    /** Source and target with the table {@code items}, and a prepared capture of it named after the database. */
    static StreamSpec itemsStream(String db, String... targetDdl) throws Exception {
        PipelineStack.freshDatabases(db);
        String ddl = "CREATE TABLE items (id int PRIMARY KEY, qty int, note text)";
        PipelineStack.exec(PipelineStack.source(db), ddl);
        PipelineStack.exec(PipelineStack.target(db), ddl);
        if (targetDdl.length > 0) {
            PipelineStack.exec(PipelineStack.target(db), targetDdl);
        }
        StreamSpec spec = PipelineStack.forward(db, db, List.of(new TableRef("public", "items")), false);
        PipelineStack.capture().prepare(spec);
        return spec;
    }

    static void assertSameItems(String db) throws SQLException {
        List<String> src = Compare.tableText(PipelineStack.source(db), "public.items");
        List<String> tgt = Compare.tableText(PipelineStack.target(db), "public.items");
        assertTrue(src.equals(tgt), () -> "items differ: " + Compare.diff(src, tgt));
    }

    /** The backend pids of the stream's applier sessions on the target. */
    static List<Integer> applierPids(StreamSpec spec) throws SQLException {
        Endpoint target = spec.to();
        try (Connection c = Pg.connect(PipelineStack.target(target.database()), "it");
                var ps = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ? AND datname = ?")) {
            ps.setString(1, "dbmigrate-applier-" + spec.streamId());
            ps.setString(2, target.database());
            try (var rs = ps.executeQuery()) {
                List<Integer> pids = new java.util.ArrayList<>();
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
                return pids;
            }
        }
    }

    @Test
    void aSecondApplierIsRefusedNamingTheHolderAndTakesOverOnceItIsGone() throws Exception {
        String db = "single";
        StreamSpec spec = itemsStream(db);
        Endpoint src = PipelineStack.source(db);
        try {
            try (ApplierThread first = new ApplierThread(spec, p -> {})) {
                StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
                List<Integer> holder = applierPids(spec);
                assertEquals(1, holder.size(), holder.toString());
                try (ApplierThread second = new ApplierThread(spec, p -> {})) {
                    Throwable refused = second.awaitFailure(Duration.ofSeconds(20));
                    assertNotNull(refused, "a second applier ran beside the first for 20 s");
                    ApplierConflictException c = assertInstanceOf(ApplierConflictException.class, refused, refused::toString);
                    assertEquals(ApplierConflictException.Kind.ALREADY_RUNNING, c.kind());
                    assertEquals("ApplierAlreadyRunning", c.kind().failureType());
                    String m = c.getMessage();
                    System.out.println("second applier refused: " + m);
                    assertTrue(m.contains("stream " + spec.streamId()) && m.contains("pid " + holder.get(0))
                            && m.contains("application_name dbmigrate-applier-" + spec.streamId()) && m.contains("client 127.0.0.1:")
                            && m.contains("hashtextextended('dbmigrate.applier:" + spec.streamId() + "', 0)"), m);
                }
                // the refused one closed its session (the server ends it a moment later), and the first applies on
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!applierPids(spec).equals(holder) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(holder, applierPids(spec));
                PipelineStack.exec(src, "INSERT INTO items SELECT g, g, 'first' FROM generate_series(1, 100) g");
                StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
                assertNull(first.failure());
                assertSameItems(db);
            }
            // the lock went with the first applier's session: the next one takes over where it stopped
            try (ApplierThread next = new ApplierThread(spec, p -> {})) {
                PipelineStack.exec(src, "UPDATE items SET qty = qty + 1, note = 'next' WHERE id % 2 = 0",
                        "INSERT INTO items VALUES (101, 1, 'next')");
                StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
                assertNull(next.failure());
                assertSameItems(db);
            }
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
