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

/**
 * One applier per stream: a second one is refused while the first holds the stream's lock on the target, and the
 * position is only written over the value the applier read (compare-and-set).
 */
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
            assertNextApplierTakesOver(spec, db, "UPDATE items SET qty = qty + 1, note = 'next' WHERE id % 2 = 0",
                    "INSERT INTO items VALUES (101, 1, 'next')");
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /**
     * The position moves under a running applier in the middle of a group (here the test writes it, as an applier
     * without the lock or a manual change would). The applier's compare-and-set finds another offset: the group is
     * rolled back with it and the applier stops naming both offsets; the position stays what the other writer wrote.
     */
    @Test
    void aPositionMovedUnderTheApplierStopsItWithoutApplyingItsGroup() throws Exception {
        String db = "casmoved";
        // a trigger on the target (ENABLE ALWAYS: it fires for the applier's replica role too) holds each insert
        // statement 3 s: a window in which the applier has written its group's rows but not yet its position
        StreamSpec spec = itemsStream(db,
                "CREATE FUNCTION hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$",
                "CREATE TRIGGER hold AFTER INSERT ON items FOR EACH STATEMENT EXECUTE FUNCTION hold()",
                "ALTER TABLE items ENABLE ALWAYS TRIGGER hold");
        Endpoint src = PipelineStack.source(db);
        Endpoint dst = PipelineStack.target(db);
        try {
            long moved;
            try (ApplierThread a = new ApplierThread(spec, p -> {})) {
                StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
                PipelineStack.exec(src, "INSERT INTO items SELECT g, g, 'held' FROM generate_series(1, 20) g");
                awaitApplierWaiting(spec, "PgSleep");
                moved = movePosition(spec, 1000);
                Throwable stopped = a.awaitFailure(Duration.ofSeconds(30));
                assertNotNull(stopped, "the applier wrote over a position it had not read");
                ApplierConflictException c = assertInstanceOf(ApplierConflictException.class, stopped, stopped::toString);
                assertEquals(ApplierConflictException.Kind.POSITION_MOVED, c.kind());
                assertEquals("ApplyPositionConflict", c.kind().failureType());
                System.out.println("applier stopped: " + c.getMessage());
                assertTrue(c.getMessage().contains("stream " + spec.streamId()) && c.getMessage().contains("offset " + moved)
                        && c.getMessage().contains("offset " + (moved - 1000)), c.getMessage());
                // nothing of the group landed, and the other writer's position stands
                assertEquals(List.of(), Compare.tableText(dst, "public.items"));
                assertEquals(moved, storedOffset(spec));
            }
            // the operator puts the position back and removes the trigger: the next applier applies every row once
            movePosition(spec, -1000);
            PipelineStack.exec(dst, "DROP TRIGGER hold ON items");
            assertNextApplierTakesOver(spec, db, "UPDATE items SET qty = qty * 2, note = 'after' WHERE id <= 5");
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /** A new applier on the stream applies what the source writes next, and both sides end equal. */
    private static void assertNextApplierTakesOver(StreamSpec spec, String db, String... sourceWrites) throws Exception {
        try (ApplierThread next = new ApplierThread(spec)) {
            PipelineStack.exec(PipelineStack.source(db), sourceWrites);
            StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            assertNull(next.failure());
            assertSameItems(db);
        }
    }

    /** Waits until the stream's applier session waits on {@code waitEvent} (pg_stat_activity). */
    static void awaitApplierWaiting(StreamSpec spec, String waitEvent) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (Connection c = Pg.connect(PipelineStack.target(spec.to().database()), "it")) {
            while (!Pg.exists(c, "SELECT 1 FROM pg_stat_activity WHERE application_name = ? AND wait_event = ?",
                    "dbmigrate-applier-" + spec.streamId(), waitEvent)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the applier of " + spec.streamId() + " never waited on " + waitEvent);
                }
                Thread.sleep(20);
            }
        }
    }

    /** Moves the stored position by {@code delta} offsets, as a writer without the lock would; returns the new offset. */
    static long movePosition(StreamSpec spec, long delta) throws SQLException {
        try (Connection c = Pg.connect(PipelineStack.target(spec.to().database()), "it");
                var ps = c.prepareStatement("UPDATE " + positionTable(spec)
                        + " SET kafka_offset = kafka_offset + ? WHERE stream = ? RETURNING kafka_offset")) {
            ps.setLong(1, delta);
            ps.setString(2, spec.streamId());
            try (var rs = ps.executeQuery()) {
                assertTrue(rs.next(), "no position row for " + spec.streamId());
                return rs.getLong(1);
            }
        }
    }

    static long storedOffset(StreamSpec spec) throws SQLException {
        try (Connection c = Pg.connect(PipelineStack.target(spec.to().database()), "it")) {
            return Long.parseLong(Pg.one(c, "SELECT kafka_offset FROM " + positionTable(spec) + " WHERE stream = ?", spec.streamId()));
        }
    }

    private static String positionTable(StreamSpec spec) {
        return io.dbmigrate.activities.sql.Sql.table(io.dbmigrate.activities.pipeline.ChangeApplier.applySchema(spec), "apply_position");
    }
}
