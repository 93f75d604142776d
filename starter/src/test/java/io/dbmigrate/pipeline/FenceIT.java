package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.migration.Fence;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The write fence against applications that write several tables per transaction (the source is a real cluster). */
class FenceIT {

    /**
     * Reproduces the demo's deadlock: an application transaction holds one table and then writes another that the
     * fence already holds. Before, PostgreSQL broke it after deadlock_timeout (1 s) by aborting one side; now the
     * fence lets go within its attempt timeout and the application's transaction commits.
     */
    @Test
    void aWriterHoldingOneTableIsNeitherDeadlockedNorAborted() throws Exception {
        String db = "fence";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), "CREATE TABLE parent (id int PRIMARY KEY)", "CREATE TABLE child (id int PRIMARY KEY)");
        MigrationPlan plan = new MigrationPlan("fence", PipelineStack.source(db), PipelineStack.target(db), List.of("public"),
                null, null, "auto", new MigrationPlan.CutoverOptions(30, 10), null, null);
        List<TableRef> tables = List.of(new TableRef("public", "parent"), new TableRef("public", "child"));
        try (Connection app = Pg.connect(PipelineStack.source(db), "app"); Statement w = app.createStatement()) {
            app.setAutoCommit(false);
            w.execute("INSERT INTO child VALUES (1)"); // holds child
            CompletableFuture<String> fence = CompletableFuture.supplyAsync(() -> {
                try {
                    return Fence.set(plan, tables, () -> {});
                } catch (SQLException e) {
                    throw new IllegalStateException(e.getSQLState() + " " + e.getMessage(), e);
                }
            });
            awaitFenceWaiting(db);
            long t0 = System.nanoTime();
            w.execute("INSERT INTO parent VALUES (1)"); // the table the fence locked first
            app.commit();
            long writerMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(writerMs < 500, "the application waited " + writerMs + " ms (deadlock_timeout is 1,000)");
            assertNotNull(fence.get(10, TimeUnit.SECONDS));
        }
        SQLException refused = assertThrows(SQLException.class,
                () -> PipelineStack.exec(PipelineStack.source(db), "INSERT INTO parent VALUES (2)"));
        assertEquals(Fence.SQLSTATE, refused.getSQLState());
        assertEquals(List.of("public.child", "public.parent"), Fence.remove(plan).stream().sorted().toList());
        PipelineStack.exec(PipelineStack.source(db), "INSERT INTO parent VALUES (2)");
    }

    /**
     * The fence is set on a partitioned table (preflight lists partitioned tables by their root), but an application
     * may write to a partition directly: INSERT, UPDATE, DELETE, COPY or TRUNCATE on it. Each is refused during the
     * pause; after the fence is removed they succeed again. (Before, only statements on the root were refused: a
     * write straight into a partition during the pause committed after the drain point and was lost at the switch.)
     */
    @Test
    void writesStraightIntoAPartitionAreFencedToo() throws Exception {
        String db = "fence_parts";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db),
                "CREATE TABLE ev (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
                "CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY RANGE (at)",
                "CREATE TABLE ev_2025_h1 PARTITION OF ev_2025 FOR VALUES FROM ('2025-01-01') TO ('2025-07-01')",
                "CREATE TABLE ev_2025_h2 PARTITION OF ev_2025 FOR VALUES FROM ('2025-07-01') TO ('2026-01-01')",
                "CREATE TABLE ev_rest PARTITION OF ev DEFAULT",
                "INSERT INTO ev VALUES (1, '2025-02-01'), (2, '2025-08-01'), (3, '2030-01-01')");
        MigrationPlan plan = new MigrationPlan("fence_parts", PipelineStack.source(db), PipelineStack.target(db),
                List.of("public"), null, null, "auto", new MigrationPlan.CutoverOptions(30, 10), null, null);
        Fence.set(plan, List.of(new TableRef("public", "ev")), () -> {});
        for (String write : List.of("INSERT INTO ev VALUES (4, '2025-03-01')", "INSERT INTO ev_2025_h1 VALUES (5, '2025-03-01')",
                "UPDATE ev_2025 SET id = 20 WHERE id = 2", "DELETE FROM ev_rest", "TRUNCATE ev_2025_h2",
                "COPY ev_2025_h1 FROM PROGRAM 'echo 6,2025-04-01' WITH (FORMAT csv)")) {
            SQLException refused = assertThrows(SQLException.class, () -> PipelineStack.exec(PipelineStack.source(db), write), write);
            assertEquals(Fence.SQLSTATE, refused.getSQLState(), write + ": " + refused.getMessage());
        }
        assertEquals(List.of("public.ev", "public.ev_2025", "public.ev_2025_h1", "public.ev_2025_h2", "public.ev_rest"),
                Fence.remove(plan).stream().sorted().toList());
        // remove() takes the fence's own schema with it
        PipelineStack.exec(PipelineStack.source(db), "INSERT INTO ev_2025_h1 VALUES (5, '2025-03-01')", "TRUNCATE ev_2025_h2");
        PipelineStack.assertNoLeftovers(db);
    }

    /**
     * A worker that dies right after setting the fence leaves nobody to remove it: the fence lapses by itself
     * {@link Fence#LEASE_GRACE_SECONDS} after the plan's write-pause deadline. Until then an application role that
     * has no access to dbmigrate's schema gets the fence's 55000, after it its writes succeed, not "permission
     * denied" (the trigger function reads the lease as its owner).
     */
    @Test
    void aFenceNobodyRemovesLapsesAfterTheDeadlineAndItsGrace() throws Exception {
        String db = "fence_lease";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), "CREATE TABLE item (id int PRIMARY KEY)",
                "DROP ROLE IF EXISTS fence_app", "CREATE ROLE fence_app LOGIN PASSWORD 'app'",
                "GRANT INSERT, SELECT ON item TO fence_app");
        MigrationPlan plan = new MigrationPlan("fence_lease", PipelineStack.source(db), PipelineStack.target(db),
                List.of("public"), null, null, "auto", new MigrationPlan.CutoverOptions(1, 5), null, null);
        java.nio.file.Path appPassword = java.nio.file.Files.writeString(java.nio.file.Files.createTempFile("app", ".pw"), "app");
        appPassword.toFile().deleteOnExit();
        io.dbmigrate.workflows.model.Endpoint app = new io.dbmigrate.workflows.model.Endpoint("127.0.0.1",
                plan.source().port(), db, "fence_app", "file:" + appPassword);
        Fence.set(plan, List.of(new TableRef("public", "item")), () -> {});
        long setAt = System.nanoTime();
        SQLException refused = assertThrows(SQLException.class, () -> PipelineStack.exec(app, "INSERT INTO item VALUES (1)"));
        assertEquals(Fence.SQLSTATE, refused.getSQLState(), refused.getMessage());

        long lapse = TimeUnit.SECONDS.toNanos(1 + Fence.LEASE_GRACE_SECONDS);
        long stillFenced = 0;
        while (true) {
            try {
                PipelineStack.exec(app, "INSERT INTO item VALUES (2)");
                break;
            } catch (SQLException e) {
                assertEquals(Fence.SQLSTATE, e.getSQLState(), e.getMessage());
                stillFenced = System.nanoTime() - setAt;
                assertTrue(stillFenced < lapse + TimeUnit.SECONDS.toNanos(2), "still fenced after " + stillFenced / 1e9 + " s");
                Thread.sleep(200);
            }
        }
        long open = System.nanoTime() - setAt;
        assertTrue(open >= lapse - TimeUnit.SECONDS.toNanos(1), "reopened after " + open / 1e9 + " s, before the lease ended");
        assertEquals(List.of("public.item"), Fence.remove(plan));
        try (Connection c = Pg.connect(PipelineStack.source(db), "fence-it")) {
            assertTrue(!Pg.exists(c, "SELECT 1 FROM pg_class WHERE relname = 'fence_lease'"), "remove() drops the lease");
        }
        PipelineStack.exec(PipelineStack.source(db), "DROP OWNED BY fence_app", "DROP ROLE fence_app");
    }

    /** Until the fence's session waits for a lock (it holds parent by then), at most 2 s. */
    private static void awaitFenceWaiting(String db) throws Exception {
        try (Connection c = Pg.connect(PipelineStack.source(db), "fence-it")) {
            for (int i = 0; i < 400; i++) {
                if (Pg.exists(c, """
                        SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE NOT l.granted AND a.application_name = ?""", "dbmigrate-fence")) {
                    return;
                }
                Thread.sleep(5);
            }
        }
    }

    /**
     * From the switch the old source must refuse application writes for good (a lease that lapsed would let a stale
     * application instance write where nobody reads): the held fence has no expiry, covers a partition written
     * directly, and lets only dbmigrate's own applier through. Finalize then makes the database read-only, ends the
     * sessions still open so they reconnect read-only, and removes the fence.
     */
    @Test
    void aHeldFenceOutlivesItsLeaseAndRetireLeavesTheSourceReadOnly() throws Exception {
        String db = "fence_hold";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), "CREATE TABLE acct (id int PRIMARY KEY, v int)",
                "CREATE TABLE ev (id int, part int, PRIMARY KEY (id, part)) PARTITION BY LIST (part)",
                "CREATE TABLE ev_1 PARTITION OF ev FOR VALUES IN (1)", "INSERT INTO acct VALUES (1, 0)");
        MigrationPlan plan = new MigrationPlan("fence_hold", PipelineStack.source(db), PipelineStack.target(db),
                List.of("public"), null, null, "auto", new MigrationPlan.CutoverOptions(1, 5), null, null);
        Fence.set(plan, List.of(new TableRef("public", "acct"), new TableRef("public", "ev")), () -> {});
        Fence.hold(plan);
        try (Connection c = Pg.connect(PipelineStack.source(db), "it"); Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT expires_at = 'infinity' FROM dbmigrate_fence_hold_fence.fence_lease")) {
            assertTrue(rs.next() && rs.getBoolean(1), "the held lease never expires");
        }
        try (Connection app = Pg.connect(PipelineStack.source(db), "stale-app"); Statement w = app.createStatement()) {
            SQLException refused = assertThrows(SQLException.class, () -> w.execute("INSERT INTO ev_1 VALUES (1, 1)"));
            assertEquals(Fence.SQLSTATE, refused.getSQLState(), "a write straight into a partition is refused");
            try (Connection applier = Pg.connect(PipelineStack.source(db), "reverse-applier"); Statement a = applier.createStatement()) {
                a.execute("SET " + Fence.APPLIER_SETTING + " = on");
                a.execute("UPDATE acct SET v = 1 WHERE id = 1"); // the reverse stream keeps the old source current
            }

            Fence.Retired r = Fence.retire(plan);
            assertTrue(r.readOnly(), r.toString());
            assertTrue(r.fenceRemoved(), r.toString());
            assertTrue(r.sessionsEnded() >= 1, "the stale application's session is ended: " + r);
            assertEquals(List.of(), r.sessionsLeft());
            SQLException ended = assertThrows(SQLException.class, () -> w.execute("SELECT 1"));
            assertTrue(ended.getSQLState() == null || ended.getSQLState().startsWith("08") || ended.getSQLState().startsWith("57"),
                    ended.getSQLState() + " " + ended.getMessage());
        }
        SQLException readOnly = assertThrows(SQLException.class,
                () -> PipelineStack.exec(PipelineStack.source(db), "UPDATE acct SET v = 2 WHERE id = 1"));
        assertEquals("25006", readOnly.getSQLState(), "a reconnecting application finds the old source read-only");
        assertTrue(Fence.retire(plan).fenceRemoved(), "retire is idempotent");
        try (Connection c = Pg.connect(PipelineStack.source(db), "it"); Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbmigrate%'"
                        + " UNION ALL SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbmigrate%'")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "no dbmigrate schema left");
            rs.next();
            assertEquals(0, rs.getInt(1), "no fence trigger left");
        }
    }

    /**
     * As a managed service runs it: the migration role owns its database and tables but is no superuser. Its applier
     * cannot use session_replication_role, so the fence lets it through by its own setting; retire can make the
     * database read-only (the owner may) and end the sessions of its own role, but not a superuser's: then the fence
     * stays and the session is named, until it is gone.
     */
    @Test
    void anOrdinaryOwnerRoleRetiresItsSourceAndKeepsTheFenceWhileAnotherRolesSessionRemains() throws Exception {
        String db = "fence_owner";
        PipelineStack.freshDatabases(db);
        java.nio.file.Path pw = java.nio.file.Files.createTempFile("pw", "");
        java.nio.file.Files.writeString(pw, "owner-pw");
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP ROLE IF EXISTS dbm_owner",
                "CREATE ROLE dbm_owner LOGIN PASSWORD 'owner-pw' NOSUPERUSER NOREPLICATION",
                "ALTER DATABASE " + db + " OWNER TO dbm_owner");
        io.dbmigrate.workflows.model.Endpoint owner = new io.dbmigrate.workflows.model.Endpoint("127.0.0.1",
                PipelineStack.PORTS.sourcePostgres(), db, "dbm_owner", "file:" + pw);
        PipelineStack.exec(owner, "CREATE TABLE acct (id int PRIMARY KEY, v int)", "INSERT INTO acct VALUES (1, 0)");
        MigrationPlan plan = new MigrationPlan("fence_owner", owner, PipelineStack.target(db), List.of("public"), null, null,
                "auto", new MigrationPlan.CutoverOptions(30, 5), null, null);
        Fence.set(plan, List.of(new TableRef("public", "acct")), () -> {});
        Fence.hold(plan);
        try (Connection applier = Pg.connect(owner, "reverse-applier"); Statement a = applier.createStatement()) {
            SQLException denied = assertThrows(SQLException.class, () -> a.execute("SET session_replication_role = replica"));
            assertEquals("42501", denied.getSQLState(), "an ordinary role may not use the replica role");
            a.execute("SET " + Fence.APPLIER_SETTING + " = on");
            a.execute("UPDATE acct SET v = 1 WHERE id = 1");
        }
        try (Connection admin = Pg.connect(PipelineStack.source(db), "someone-else")) {
            Fence.Retired kept = Fence.retire(plan);
            assertTrue(kept.readOnly(), "the owner may make its database read-only: " + kept);
            assertFalse(kept.fenceRemoved(), "a session it cannot end keeps the fence: " + kept);
            assertTrue(kept.sessionsLeft().stream().anyMatch(l -> l.contains("role postgres") && l.contains("someone-else")),
                    kept.toString());
        }
        assertEquals(Fence.SQLSTATE, assertThrows(SQLException.class,
                () -> PipelineStack.exec(PipelineStack.source(db), "SET default_transaction_read_only = off",
                        "UPDATE acct SET v = 2 WHERE id = 1")).getSQLState(), "the fence still refuses a session that ignores read-only");
        Fence.Retired done = Fence.retire(plan);
        assertTrue(done.fenceRemoved(), done.toString());
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP DATABASE " + db + " WITH (FORCE)", "DROP ROLE dbm_owner");
    }
}
