package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.migration.Preflight;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Preflight refusals and idempotent connector registration, against the real stack. */
class PreflightIT {
    static MigrationPlan plan(String db, Endpoint source, List<String> tables) {
        return new MigrationPlan("pre", source, PipelineStack.target(db), List.of("public"), tables, null, "auto", null, null, null);
    }

    @Test
    void refusalsNameTheObjectAndTheFixAndChangeNothing() throws Exception {
        String db = "preflight";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db),
                "CREATE TABLE keyless (a int, b text)",
                "CREATE TABLE clock (id int PRIMARY KEY, t timetz)",
                "CREATE TABLE fine (id int PRIMARY KEY, v text)",
                "SELECT lo_create(0)");
        PipelineStack.exec(PipelineStack.target(db), "CREATE TABLE fine (id int PRIMARY KEY, v varchar(3))");

        Preflight.Refused r = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan(db, PipelineStack.source(db), null)));
        String m = r.getMessage();
        assertTrue(m.contains("table public.keyless has no primary key") && m.contains("REPLICA IDENTITY FULL"), m);
        assertTrue(m.contains("table public.clock column t has type time with time zone"), m);
        assertTrue(m.contains("large objects"), m);
        assertTrue(m.contains("table public.fine exists on the target with different columns"), m);

        Endpoint wrongPassword = new Endpoint("127.0.0.1", PipelineStack.PORTS.sourcePostgres(), db, "postgres", "env:DBMIGRATE_NO_SUCH_PASSWORD");
        Preflight.Refused unreachable = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan(db, wrongPassword, null)));
        assertTrue(unreachable.getMessage().contains("environment variable DBMIGRATE_NO_SUCH_PASSWORD is not set"), unreachable.getMessage());

        Path bad = Files.createTempFile("pw", "");
        Files.writeString(bad, "not-the-password");
        Endpoint badPassword = new Endpoint("127.0.0.1", PipelineStack.PORTS.sourcePostgres(), db, "postgres", "file:" + bad);
        Preflight.Refused denied = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan(db, badPassword, null)));
        assertTrue(denied.getMessage().contains("cannot connect to the source postgres@127.0.0.1:" + PipelineStack.PORTS.sourcePostgres())
                && denied.getMessage().contains("password authentication failed"), denied.getMessage());

        Preflight.Refused missing = assertThrows(Preflight.Refused.class,
                () -> Preflight.run(plan(db, PipelineStack.source(db), List.of("public.nope"))));
        assertTrue(missing.getMessage().contains("table public.nope (from plan.tables) does not exist on the source"), missing.getMessage());

        // refusals changed nothing
        PipelineStack.assertNoLeftovers(db);
        try (Connection c = Pg.connect(PipelineStack.source(db), "it"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbmigrate%'")) {
            rs.next();
            assertEquals(0, rs.getInt(1));
        }
    }

    @Test
    void connectorRegistrationIsIdempotent() throws Exception {
        String db = "idem";
        PipelineStack.freshDatabases(db);
        String ddl = "CREATE TABLE t (id int PRIMARY KEY, v text)";
        PipelineStack.exec(PipelineStack.source(db), ddl);
        PipelineStack.exec(PipelineStack.target(db), ddl);
        PreflightReport ok = Preflight.run(plan(db, PipelineStack.source(db), null));
        assertEquals(List.of(new TableRef("public", "t")), ok.tables());
        assertTrue(!ok.sourceVersion().isBlank() && !ok.targetVersion().isBlank(), ok.toString());
        StreamSpec spec = PipelineStack.forward("idem", db, List.of(new TableRef("public", "t")), false);
        try {
            PipelineStack.capture().prepare(spec);
            PipelineStack.capture().prepare(spec); // again: create-or-update, same slot, same topic, one connector
            long deadline = System.currentTimeMillis() + 60_000;
            String state = PipelineStack.connect().state(spec.connectorName());
            while (!state.equals("RUNNING") && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
                state = PipelineStack.connect().state(spec.connectorName());
            }
            assertEquals("RUNNING", state);
            assertEquals(1, PipelineStack.connect().list().stream().filter(n -> n.equals(spec.connectorName())).count());
            try (Connection c = Pg.connect(PipelineStack.source(db), "it"); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_publication WHERE pubname = 'dbmigrate_idem'")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /**
     * The switch's own needs are checked before anything changes: a PgBouncer that cannot be reached or whose
     * databases file the worker cannot write, and for a fallback window a target role that cannot be captured.
     */
    @Test
    void switchStrategyAndFallbackWindowAreCheckedUpFront() throws Exception {
        String db = "preflight_switch";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), "CREATE TABLE t (id int PRIMARY KEY)");
        PipelineStack.exec(PipelineStack.target(db), "DROP ROLE IF EXISTS dbm_norepl",
                "CREATE ROLE dbm_norepl LOGIN PASSWORD 'pw' NOREPLICATION", "GRANT ALL ON DATABASE " + db + " TO dbm_norepl");
        Path pw = Files.createTempFile("pw", "");
        Files.writeString(pw, "pw");
        Endpoint ordinaryTarget = new Endpoint("127.0.0.1", PipelineStack.PORTS.targetPostgres(), db, "dbm_norepl", "file:" + pw);
        MigrationPlan.PgBouncerOptions nowhere = new MigrationPlan.PgBouncerOptions(
                new Endpoint("127.0.0.1", 1, "pgbouncer", "admin", "file:" + pw), db, "/nonexistent/databases.ini");
        MigrationPlan plan = new MigrationPlan("pre", PipelineStack.source(db), ordinaryTarget, List.of("public"), null, null,
                "auto", new MigrationPlan.CutoverOptions(30, 5, "pgbouncer", nowhere, 60), null, null);
        Preflight.Refused r = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan));
        String m = r.getMessage();
        assertTrue(m.contains("cutover.strategy pgbouncer: PgBouncer's databases file /nonexistent/databases.ini is missing or not writable"), m);
        assertTrue(m.contains("target role dbm_norepl lacks the REPLICATION privilege") && m.contains("or set the window to 0"), m);
        try (Connection c = Pg.connect(PipelineStack.source(db), "it"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbmigrate%'")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "preflight changed nothing");
        }
        PipelineStack.exec(PipelineStack.target(db), "REVOKE ALL ON DATABASE " + db + " FROM dbm_norepl", "DROP ROLE dbm_norepl");
    }

    /**
     * Schemas that would lose rows silently or make the source refuse its application's writes once published are
     * refused by name, with the fix, before anything changes (issue 17): REPLICA IDENTITY NOTHING, a partition without
     * a key whose root alone is FULL, a partition's USING INDEX, UNLOGGED, a DEFERRABLE key, row-level security forced on the
     * owner, and a role without CREATE on the source database. Run as an ordinary owner role with REPLICATION.
     */
    @Test
    void schemasThatWouldLoseRowsOrBreakTheSourceAreRefusedByName() throws Exception {
        String db = "preflight_schema";
        PipelineStack.freshDatabases(db);
        Path pw = Files.createTempFile("pw", "");
        Files.writeString(pw, "mig-pw");
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP ROLE IF EXISTS dbm_mig",
                "CREATE ROLE dbm_mig LOGIN REPLICATION PASSWORD 'mig-pw'", "ALTER DATABASE " + db + " OWNER TO dbm_mig",
                "REVOKE CREATE ON DATABASE " + db + " FROM dbm_mig");
        Endpoint mig = new Endpoint("127.0.0.1", PipelineStack.PORTS.sourcePostgres(), db, "dbm_mig", "file:" + pw);
        PipelineStack.exec(mig,
                "CREATE TABLE nothing_ident (id int PRIMARY KEY, v text)", "ALTER TABLE nothing_ident REPLICA IDENTITY NOTHING",
                "CREATE TABLE parts (id int, k int, v text) PARTITION BY LIST (k)", "ALTER TABLE parts REPLICA IDENTITY FULL",
                "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1)",
                "CREATE TABLE by_index (id int PRIMARY KEY, code text NOT NULL UNIQUE)",
                "ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_code_key",
                "CREATE TABLE parts_by_index (id int NOT NULL, k int NOT NULL) PARTITION BY LIST (k)",
                "CREATE TABLE parts_by_index_1 PARTITION OF parts_by_index FOR VALUES IN (1)",
                "CREATE UNIQUE INDEX parts_by_index_1_id ON parts_by_index_1 (id)",
                "ALTER TABLE parts_by_index_1 REPLICA IDENTITY USING INDEX parts_by_index_1_id",
                "CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)",
                "CREATE TABLE deferred (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED)",
                "CREATE TABLE tenants (id int PRIMARY KEY, tenant text)", "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
                "CREATE POLICY one_tenant ON tenants USING (tenant = 'a')",
                "CREATE TABLE fine (id int PRIMARY KEY, v text)");
        // the owner may not keep CREATE it was never granted: the database owner has it implicitly, so take the schema route
        PipelineStack.exec(PipelineStack.source("postgres"), "ALTER DATABASE " + db + " OWNER TO postgres");
        MigrationPlan plan = new MigrationPlan("pre", mig, PipelineStack.target(db), List.of("public"), null, null, "auto", null, null, null);
        String m = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan)).getMessage();
        assertTrue(m.contains("table public.nothing_ident has REPLICA IDENTITY NOTHING") && m.contains("REPLICA IDENTITY DEFAULT"), m);
        assertTrue(m.contains("partition public.parts_1 of public.parts has no primary key"), m);
        assertTrue(!m.contains("table public.parts has"), "the root holds no rows: " + m);
        // carried: the applier keys its rows by the identity index (SchemaCasesIT); a partition's is not
        assertTrue(!m.contains("table public.by_index"), m);
        assertTrue(m.contains("partition public.parts_by_index_1 of public.parts_by_index has REPLICA IDENTITY USING INDEX "
                + "parts_by_index_1_id"), m);
        assertTrue(m.contains("table public.scratch is UNLOGGED") && m.contains("SET LOGGED"), m);
        assertTrue(m.contains("table public.deferred has a DEFERRABLE primary key (deferred_pkey)") && m.contains("NOT DEFERRABLE"), m);
        assertTrue(m.contains("row-level security on table public.tenants applies to the migration role"), m);
        assertTrue(m.contains("source role lacks CREATE on its database") && m.contains("GRANT CREATE ON DATABASE \"preflight_schema\" TO \"dbm_mig\""), m);
        assertTrue(!m.contains("public.fine"), m);
        PipelineStack.assertNoLeftovers(db);
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP DATABASE " + db + " WITH (FORCE)", "DROP ROLE dbm_mig");
    }

    /**
     * A row whose change record would exceed limits.maxRecordBytes is refused by table and key before anything changes
     * (a bytea counts as hex, REPLICA IDENTITY FULL twice); raising the limit lets the same tables through.
     */
    @Test
    void rowsWiderThanTheRecordLimitAreRefusedByTable() throws Exception {
        String db = "preflight_wide";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db),
                "CREATE TABLE wide (id int PRIMARY KEY, doc text)",
                "INSERT INTO wide SELECT g, 'short' FROM generate_series(1, 1000) g",
                // 600,000 characters, stored compressed out of line: octet_length sees the raw size
                "UPDATE wide SET doc = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 18750) g) WHERE id = 7",
                "CREATE TABLE wide_full (id int PRIMARY KEY, b bytea)", "ALTER TABLE wide_full REPLICA IDENTITY FULL",
                // 150,000 bytes: 300,000 as hex, twice under FULL
                "INSERT INTO wide_full SELECT 1, decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 9375) g",
                "CREATE TABLE narrow (id int PRIMARY KEY, doc text)",
                "INSERT INTO narrow SELECT 1, string_agg(md5(g::text), '') FROM generate_series(1, 9375) g");
        MigrationPlan base = plan(db, PipelineStack.source(db), null);
        MigrationPlan limited = base.withLimits(new MigrationPlan.Limits(512L * 1024));
        String m = assertThrows(Preflight.Refused.class, () -> Preflight.run(limited)).getMessage();
        assertTrue(m.contains("table public.wide (row with key (7)) holds a row whose change record would be about 60")
                && m.contains("above limits.maxRecordBytes = 524288") && m.contains("at least 1048576"), m);
        assertTrue(m.contains("table public.wide_full (row with key (1))") && m.contains("REPLICA IDENTITY FULL carries it twice"), m);
        assertTrue(!m.contains("public.narrow"), m);
        PipelineStack.assertNoLeftovers(db);
        // the default limit (64 MiB) carries them all
        assertEquals(3, Preflight.run(base).tables().size());
    }

    /**
     * The rights later phases need are checked before anything changes: a listed table the source role does not own
     * (CREATE PUBLICATION would fail), a table or partition it cannot read, and on the target a role that cannot create
     * schemas or tables, or write a table that already exists there.
     */
    @Test
    void privilegesEachPhaseNeedsAreCheckedUpFront() throws Exception {
        String db = "preflight_priv";
        PipelineStack.freshDatabases(db);
        Path pw = Files.createTempFile("pw", "");
        Files.writeString(pw, "priv-pw");
        Endpoint admin = PipelineStack.source(db);
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP ROLE IF EXISTS dbm_priv",
                "CREATE ROLE dbm_priv LOGIN REPLICATION PASSWORD 'priv-pw'", "GRANT CREATE ON DATABASE " + db + " TO dbm_priv");
        PipelineStack.exec(admin, "GRANT CREATE ON SCHEMA public TO dbm_priv",
                "CREATE TABLE theirs (id int PRIMARY KEY)", "GRANT SELECT ON theirs TO dbm_priv",
                "CREATE TABLE hidden (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE hidden_1 PARTITION OF hidden FOR VALUES IN (1)", "GRANT SELECT ON hidden TO dbm_priv");
        Endpoint mig = new Endpoint("127.0.0.1", PipelineStack.PORTS.sourcePostgres(), db, "dbm_priv", "file:" + pw);
        PipelineStack.exec(mig, "CREATE TABLE mine (id int PRIMARY KEY)");
        PipelineStack.exec(PipelineStack.target("postgres"), "DROP ROLE IF EXISTS dbm_priv",
                "CREATE ROLE dbm_priv LOGIN PASSWORD 'priv-pw'");
        PipelineStack.exec(PipelineStack.target(db), "CREATE TABLE mine (id int PRIMARY KEY)", "GRANT SELECT ON mine TO dbm_priv");
        Endpoint tgt = new Endpoint("127.0.0.1", PipelineStack.PORTS.targetPostgres(), db, "dbm_priv", "file:" + pw);
        MigrationPlan plan = new MigrationPlan("pre", mig, tgt, List.of("public"), null, null, "auto", null, null, null);
        try {
            String m = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan)).getMessage();
            assertTrue(m.contains("table public.theirs is owned by postgres, not by source role dbm_priv")
                    && m.contains("GRANT postgres TO \"dbm_priv\""), m);
            assertTrue(m.contains("table public.hidden is owned by postgres"), m);
            assertTrue(m.contains("source role dbm_priv cannot SELECT from hidden_1") && m.contains("GRANT SELECT ON hidden_1 TO"), m);
            assertTrue(!m.contains("cannot SELECT from theirs") && !m.contains("public.mine is owned"), m);
            assertTrue(m.contains("target role dbm_priv lacks CREATE on its database"), m);
            assertTrue(m.contains("target role dbm_priv lacks CREATE on schema public on the target"), m);
            assertTrue(m.contains("target role dbm_priv lacks DELETE, INSERT, TRUNCATE, UPDATE on the existing target table public.mine"), m);
            PipelineStack.assertNoLeftovers(db);
        } finally {
            for (Endpoint e : List.of(PipelineStack.source("postgres"), PipelineStack.target("postgres"))) {
                PipelineStack.exec(e, "DROP DATABASE " + db + " WITH (FORCE)", "DROP ROLE dbm_priv");
            }
        }
    }

    @Test
    void cascadesAndTriggersThatWouldFireAgainOnTheTargetAreRefusedUnlessItAppliesAsAReplica() throws Exception {
        String db = "preflight_cascade";
        PipelineStack.freshDatabases(db);
        Path pw = Files.createTempFile("pw", "");
        Files.writeString(pw, "casc-pw");
        for (Endpoint e : List.of(PipelineStack.source("postgres"), PipelineStack.target("postgres"))) {
            PipelineStack.exec(e, "DROP ROLE IF EXISTS dbm_casc", "CREATE ROLE dbm_casc LOGIN REPLICATION PASSWORD 'casc-pw'",
                    "GRANT CREATE ON DATABASE " + db + " TO dbm_casc");
        }
        PipelineStack.exec(PipelineStack.source(db), "GRANT CREATE ON SCHEMA public TO dbm_casc");
        PipelineStack.exec(PipelineStack.target(db), "GRANT CREATE ON SCHEMA public TO dbm_casc");
        Endpoint src = new Endpoint("127.0.0.1", PipelineStack.PORTS.sourcePostgres(), db, "dbm_casc", "file:" + pw);
        Endpoint tgt = new Endpoint("127.0.0.1", PipelineStack.PORTS.targetPostgres(), db, "dbm_casc", "file:" + pw);
        PipelineStack.exec(src, "CREATE TABLE orders (id int PRIMARY KEY)",
                "CREATE TABLE lines (id int PRIMARY KEY, order_id int REFERENCES orders ON DELETE CASCADE)",
                "CREATE TABLE audit (id serial PRIMARY KEY, what text)",
                "CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO audit (what) VALUES (TG_OP); RETURN NEW; END$$",
                "CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order()");
        MigrationPlan plan = new MigrationPlan("casc", src, tgt, List.of("public"), null, null, "auto", null, null, null);
        try {
            String m = assertThrows(Preflight.Refused.class, () -> Preflight.run(plan)).getMessage();
            assertTrue(m.contains("target role dbm_casc cannot set session_replication_role"), m);
            assertTrue(m.contains("foreign key lines_order_id_fkey ON DELETE CASCADE of public.lines"), m);
            assertTrue(m.contains("trigger orders_audit of public.orders"), m);
            assertTrue(m.contains("GRANT SET ON PARAMETER session_replication_role TO \"dbm_casc\""), m);
            PipelineStack.assertNoLeftovers(db);

            PipelineStack.exec(PipelineStack.target("postgres"), "GRANT SET ON PARAMETER session_replication_role TO dbm_casc");
            Preflight.run(plan); // applied as a replica, neither fires: nothing left to refuse
        } finally {
            for (Endpoint e : List.of(PipelineStack.source("postgres"), PipelineStack.target("postgres"))) {
                PipelineStack.exec(e, "DROP DATABASE " + db + " WITH (FORCE)", "DROP OWNED BY dbm_casc", "DROP ROLE dbm_casc");
            }
        }
    }
}
