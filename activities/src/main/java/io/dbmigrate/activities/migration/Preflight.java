package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.TypeSupport;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.MigrationId;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that must hold before dbmigrate changes anything. Reads only. Each refusal names the object and the
 * fix; all of them are reported at once.
 */
public final class Preflight {
    /** Thrown with every refusal found. */
    public static final class Refused extends RuntimeException {
        public Refused(List<String> problems) {
            super("preflight refused the migration:\n  - " + String.join("\n  - ", problems));
        }
    }

    private Preflight() {}

    public static PreflightReport run(MigrationPlan plan) {
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        try (Connection src = connect(plan.source(), "source", problems); Connection tgt = connect(plan.target(), "target", problems)) {
            if (src == null || tgt == null) {
                throw new Refused(problems);
            }
            String srcVersion = Pg.one(src, "SELECT current_setting('server_version')");
            String tgtVersion = Pg.one(tgt, "SELECT current_setting('server_version')");
            int srcMajor = Integer.parseInt(Pg.one(src, "SELECT current_setting('server_version_num')")) / 10000;
            int tgtMajor = Integer.parseInt(Pg.one(tgt, "SELECT current_setting('server_version_num')")) / 10000;
            if (tgtMajor < srcMajor) {
                problems.add("target runs PostgreSQL " + tgtVersion + ", older than the source's " + srcVersion
                        + ": migrate to the same or a newer major version");
            }
            String wal = Pg.one(src, "SELECT current_setting('wal_level')");
            if (!"logical".equals(wal)) {
                problems.add("source wal_level is '" + wal + "': set wal_level = logical in postgresql.conf (or ALTER SYSTEM) and restart the source");
            }
            if (!"t".equals(Pg.one(src, "SELECT (rolreplication OR rolsuper)::text::char FROM pg_roles WHERE rolname = current_user"))) {
                problems.add("source role " + plan.source().user() + " lacks the REPLICATION privilege: ALTER ROLE "
                        + Sql.ident(plan.source().user()) + " REPLICATION (managed services: grant rds_replication or cloudsqlsuperuser)");
            }
            int freeSlots = Integer.parseInt(Pg.one(src, "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)"));
            boolean ownSlot = Pg.exists(src, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", MigrationId.objectName(plan.migrationId()));
            if (freeSlots < 1 && !ownSlot) {
                problems.add("source has no free replication slot (max_replication_slots reached): raise max_replication_slots or drop unused slots");
            }
            int freeSenders = Integer.parseInt(Pg.one(src, "SELECT current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication)"));
            if (freeSenders < 1) {
                problems.add("source has no free WAL sender (max_wal_senders reached): raise max_wal_senders");
            }
            if ("-1".equals(Pg.one(src, "SELECT current_setting('max_slot_wal_keep_size')"))) {
                warnings.add("source max_slot_wal_keep_size is unlimited: a stalled migration retains WAL until the disk fills; "
                        + "consider a limit (the slot's retained WAL is reported in status)");
            }
            List<TableRef> tables = resolveTables(src, plan, problems);
            checkKeys(src, tables, problems);
            privileges(plan, src, tgt, tables, problems);
            problems.addAll(TypeSupport.problems(src, tgt, tables));
            problems.addAll(RecordSizes.problems(src, tables, MigrationPlan.Limits.orDefault(plan.maxRecordBytesOrNull())));
            long lobs = Long.parseLong(Pg.one(src, "SELECT count(*) FROM pg_largeobject_metadata"));
            if (lobs > 0) {
                problems.add("source holds " + lobs + " large objects (pg_largeobject): logical decoding does not carry them; "
                        + "move them to bytea columns or copy them separately");
            }
            longTransactions(src, problems);
            extensions(src, tgt, problems);
            targetTables(src, tgt, tables, problems);
            if (!canSetReplicationRole(tgt)) {
                List<String> firing = actionsThatWouldFireTwice(src, tables);
                String grant = "GRANT SET ON PARAMETER session_replication_role TO " + Sql.ident(plan.target().user())
                        + " (PostgreSQL 15+; before that, apply as a superuser on the target)";
                if (firing.isEmpty()) {
                    warnings.add("target role " + plan.target().user() + " cannot set session_replication_role: target "
                            + "triggers added later would fire during apply. Fix: " + grant);
                } else {
                    problems.add("target role " + plan.target().user() + " cannot set session_replication_role, so the "
                            + "target would run again what the source already did and the stream carries: " + String.join("; ", firing)
                            + ". Applying would delete or change rows twice (the migration would stop on the first one). Fix: " + grant);
                }
            }
            switchChecks(plan, src, tgt, problems, warnings);
            if (!problems.isEmpty()) {
                throw new Refused(problems);
            }
            long rows = Long.parseLong(Pg.one(src, "SELECT coalesce(sum(greatest(reltuples, 0)), 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE (n.nspname, c.relname) IN ("
                    + String.join(", ", tables.stream().map(t -> "(" + Sql.literal(t.schema()) + ", " + Sql.literal(t.name()) + ")").toList()) + ")"));
            return new PreflightReport(tables, srcVersion, tgtVersion, rows, warnings);
        } catch (SQLException e) {
            throw new IllegalStateException("preflight query failed: " + e.getMessage(), e);
        }
    }

    private static Connection connect(Endpoint e, String side, List<String> problems) {
        try {
            return Pg.connect(e, "dbmigrate-preflight");
        } catch (SQLException ex) {
            problems.add("cannot connect to the " + side + " " + e.describe() + ": " + ex.getMessage()
                    + " (check host, port, database, user and the password behind " + e.passwordRef() + ")");
            return null;
        } catch (IllegalArgumentException ex) {
            problems.add(side + ": " + ex.getMessage());
            return null;
        }
    }

    static List<TableRef> resolveTables(Connection src, MigrationPlan plan, List<String> problems) throws SQLException {
        List<TableRef> out = new ArrayList<>();
        if (plan.tables() != null && !plan.tables().isEmpty()) {
            for (String q : plan.tables()) {
                TableRef t = TableRef.parse(q);
                if (!Pg.exists(src, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r','p')",
                        t.schema(), t.name())) {
                    problems.add("table " + t + " (from plan.tables) does not exist on the source");
                } else {
                    out.add(t);
                }
            }
            return out;
        }
        for (String schema : plan.schemasOrDefault()) {
            if (!Pg.exists(src, "SELECT 1 FROM pg_namespace WHERE nspname = ?", schema)) {
                problems.add("schema " + schema + " (from plan.schemas) does not exist on the source");
                continue;
            }
            try (PreparedStatement ps = src.prepareStatement("""
                    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ? AND c.relkind IN ('r','p') AND NOT c.relispartition ORDER BY c.relname""")) {
                ps.setString(1, schema);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new TableRef(schema, rs.getString(1)));
                    }
                }
            }
        }
        if (out.isEmpty() && problems.isEmpty()) {
            problems.add("no tables to migrate in schemas " + plan.schemasOrDefault());
        }
        return out;
    }

    /**
     * What the switch and its aftermath need: PgBouncer reachable with a writable databases file; for a fallback
     * window, a target that can be captured (the reverse stream); and the right to make the old source read-only.
     */
    private static void switchChecks(MigrationPlan plan, Connection src, Connection tgt, List<String> problems,
            List<String> warnings) throws SQLException {
        MigrationPlan.CutoverOptions cutover = plan.cutoverOrDefault();
        if (cutover.viaPgBouncer()) {
            try {
                io.dbmigrate.activities.cutover.Traffic.check(plan);
            } catch (RuntimeException e) {
                problems.add("cutover.strategy pgbouncer: " + e.getMessage());
            }
        }
        if (cutover.fallbackWindowMinutes() > 0) {
            String wal = Pg.one(tgt, "SELECT current_setting('wal_level')");
            if (!"logical".equals(wal)) {
                problems.add("cutover.fallbackWindowMinutes needs the target captured after the switch, but target wal_level is '"
                        + wal + "': set wal_level = logical on the target and restart it, or set the window to 0");
            }
            if (!"t".equals(Pg.one(tgt, "SELECT (rolreplication OR rolsuper)::text::char FROM pg_roles WHERE rolname = current_user"))) {
                problems.add("cutover.fallbackWindowMinutes needs the target captured after the switch, but target role "
                        + plan.target().user() + " lacks the REPLICATION privilege: ALTER ROLE " + Sql.ident(plan.target().user())
                        + " REPLICATION, or set the window to 0");
            }
        }
        if (!"t".equals(Pg.one(src, "SELECT (pg_has_role(datdba, 'MEMBER') OR (SELECT rolsuper FROM pg_roles WHERE rolname = "
                + "current_user))::text::char FROM pg_database WHERE datname = current_database()"))) {
            warnings.add("source role " + plan.source().user() + " does not own database " + plan.source().database()
                    + ": finalize cannot make the old source read-only (ALTER DATABASE ... SET default_transaction_read_only), "
                    + "so the write fence stays on it until removed by hand (see RUNBOOK)");
        }
    }

    /**
     * What each table will publish and what the copy can read, checked on every relation that holds rows (a
     * partitioned table's partitions each on their own: they do not inherit the root's replica identity): a replica
     * identity that makes the source refuse UPDATE and DELETE once the table is published (NOTHING, or DEFAULT with
     * no primary key), a partition's USING INDEX (a partitioned table's rows are keyed by its root's primary key; a
     * plain table's by its identity index, which the applier reads on the target), an UNLOGGED table
     * (never decoded), a DEFERRABLE primary key (the applier's ON CONFLICT cannot use it), and row-level security that
     * applies to the migration role (its copy and validation would see only the rows the policies show).
     */
    private static void checkKeys(Connection src, List<TableRef> tables, List<String> problems) throws SQLException {
        for (TableRef t : tables) {
            try (PreparedStatement ps = src.prepareStatement("""
                    SELECT n.nspname, r.relname, r.relreplident, r.relpersistence,
                           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = r.oid AND i.indisprimary),
                           (SELECT ri.relname FROM pg_index i JOIN pg_class ri ON ri.oid = i.indexrelid
                             WHERE i.indrelid = r.oid AND i.indisreplident),
                           (SELECT k.conname FROM pg_constraint k WHERE k.conrelid = r.oid AND k.contype = 'p' AND k.condeferrable),
                           r.relrowsecurity AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
                             AND (r.relforcerowsecurity OR NOT pg_has_role(r.relowner, 'MEMBER')),
                           r.relkind = 'r'
                      FROM (SELECT CAST(? AS regclass) AS relid, 0 AS level UNION SELECT relid, level FROM pg_partition_tree(CAST(? AS regclass))) tree
                      JOIN pg_class r ON r.oid = tree.relid
                      JOIN pg_namespace n ON n.oid = r.relnamespace
                     WHERE r.relkind IN ('r', 'p') ORDER BY tree.level, n.nspname, r.relname""")) {
                ps.setString(1, Sql.table(t));
                ps.setString(2, Sql.table(t)); // pg_partition_tree lists nothing for a table outside any partition tree
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        TableRef r = new TableRef(rs.getString(1), rs.getString(2));
                        String what = r.equals(t) ? "table " + t : "partition " + r + " of " + t;
                        // a partitioned table holds no rows: each partition's own identity is what UPDATE checks
                        String ident = rs.getBoolean(9) ? rs.getString(3) : "f";
                        boolean pk = rs.getBoolean(5);
                        if ("n".equals(ident)) {
                            problems.add(what + " has REPLICA IDENTITY NOTHING: once it is published every UPDATE and DELETE "
                                    + "on it fails on the source. Fix: ALTER TABLE " + Sql.table(r) + " REPLICA IDENTITY "
                                    + (pk ? "DEFAULT" : "FULL"));
                        } else if ("d".equals(ident) && !pk) {
                            problems.add(what + " has no primary key, so its updates and deletes cannot be applied (and, "
                                    + "once published, the source refuses them): ALTER TABLE " + Sql.table(r)
                                    + " ADD PRIMARY KEY (...), or ALTER TABLE " + Sql.table(r)
                                    + " REPLICA IDENTITY FULL (every update then logs the whole old row)");
                        } else if ("i".equals(ident) && !r.equals(t)) {
                            // a plain table's rows are keyed by its identity index; a partitioned table's by its root's key
                            problems.add(what + " has REPLICA IDENTITY USING INDEX " + rs.getString(6) + ": its changes name "
                                    + "rows by that index, and dbmigrate keys the rows of a partitioned table by its root's "
                                    + "primary key. Fix: ALTER TABLE " + Sql.table(r) + " REPLICA IDENTITY " + (pk ? "DEFAULT" : "FULL"));
                        }
                        if ("u".equals(rs.getString(4))) {
                            problems.add(what + " is UNLOGGED: logical decoding never sees its changes. Fix: ALTER TABLE "
                                    + Sql.table(r) + " SET LOGGED, or leave it out of plan.tables");
                        }
                        if (rs.getString(7) != null) {
                            problems.add(what + " has a DEFERRABLE primary key (" + rs.getString(7) + "): the applier's "
                                    + "ON CONFLICT cannot use it. Fix: ALTER TABLE " + Sql.table(r) + " ALTER CONSTRAINT "
                                    + Sql.ident(rs.getString(7)) + " NOT DEFERRABLE");
                        }
                        if (rs.getBoolean(8)) {
                            problems.add("row-level security on " + what + " applies to the migration role: its copy and "
                                    + "validation would see only the rows its policies show. Fix: run the migration as the "
                                    + "table's owner without FORCE ROW LEVEL SECURITY (ALTER TABLE " + Sql.table(r)
                                    + " NO FORCE ROW LEVEL SECURITY), or ALTER ROLE ... BYPASSRLS");
                        }
                    }
                }
            }
        }
        if (!"t".equals(Pg.one(src, "SELECT has_database_privilege(current_database(), 'CREATE')::text::char"))) {
            problems.add("source role lacks CREATE on its database: dbmigrate creates its own schema there (dbmigrate_<id>). "
                    + "Fix: GRANT CREATE ON DATABASE " + Sql.ident(Pg.one(src, "SELECT current_database()")) + " TO "
                    + Sql.ident(Pg.one(src, "SELECT current_user")));
        }
    }

    /**
     * What later phases need of the migration roles: on the source, ownership of each listed table (CREATE
     * PUBLICATION ... FOR TABLE requires it, or superuser) and SELECT on it and its partitions (the copy and validation
     * read each); on the target, CREATE on the database (dbmigrate's own schema) and on each migrated schema that exists
     * there (TargetSchema creates the tables), and every right the copy and the applier use on a table already there.
     */
    private static void privileges(MigrationPlan plan, Connection src, Connection tgt, List<TableRef> tables,
            List<String> problems) throws SQLException {
        String srcRole = Sql.ident(Pg.one(src, "SELECT current_user"));
        for (TableRef t : tables) {
            String owner = Pg.one(src, "SELECT CASE WHEN pg_has_role(relowner, 'USAGE') THEN NULL ELSE relowner::regrole::text END "
                    + "FROM pg_class WHERE oid = CAST(? AS regclass)", Sql.table(t));
            if (owner != null && !"t".equals(Pg.one(src, "SELECT rolsuper::text::char FROM pg_roles WHERE rolname = current_user"))) {
                problems.add("table " + t + " is owned by " + owner + ", not by source role " + plan.source().user()
                        + ": PostgreSQL lets only a table's owner add it to a publication. Fix: GRANT " + owner + " TO "
                        + srcRole + " (membership with INHERIT), or ALTER TABLE " + Sql.table(t) + " OWNER TO " + srcRole);
            }
            try (PreparedStatement ps = src.prepareStatement("""
                    SELECT r.oid::regclass::text FROM (SELECT CAST(? AS regclass) AS relid UNION
                           SELECT relid FROM pg_partition_tree(CAST(? AS regclass))) x JOIN pg_class r ON r.oid = x.relid
                     WHERE NOT has_table_privilege(r.oid, 'SELECT') ORDER BY 1""")) {
                ps.setString(1, Sql.table(t));
                ps.setString(2, Sql.table(t));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        problems.add("source role " + plan.source().user() + " cannot SELECT from " + rs.getString(1)
                                + " (the copy and validation read it). Fix: GRANT SELECT ON " + rs.getString(1) + " TO " + srcRole);
                    }
                }
            }
        }
        String tgtRole = Sql.ident(Pg.one(tgt, "SELECT current_user"));
        if (!"t".equals(Pg.one(tgt, "SELECT has_database_privilege(current_database(), 'CREATE')::text::char"))) {
            problems.add("target role " + plan.target().user() + " lacks CREATE on its database: dbmigrate creates its own "
                    + "schema there (dbmigrate_<id>) and the migrated schemas it lacks. Fix: GRANT CREATE ON DATABASE "
                    + Sql.ident(Pg.one(tgt, "SELECT current_database()")) + " TO " + tgtRole);
        }
        for (String schema : tables.stream().map(TableRef::schema).distinct().toList()) {
            if (Pg.exists(tgt, "SELECT 1 FROM pg_namespace WHERE nspname = ? AND NOT has_schema_privilege(oid, 'CREATE')", schema)) {
                problems.add("target role " + plan.target().user() + " lacks CREATE on schema " + schema + " on the target, "
                        + "where dbmigrate creates the migrated tables. Fix: GRANT CREATE ON SCHEMA " + Sql.ident(schema) + " TO " + tgtRole);
            }
        }
        for (TableRef t : tables) {
            String missing = Pg.one(tgt, """
                    SELECT string_agg(p, ', ' ORDER BY p) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                           unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
                     WHERE n.nspname = ? AND c.relname = ? AND NOT has_table_privilege(c.oid, p)""", t.schema(), t.name());
            if (missing != null) {
                problems.add("target role " + plan.target().user() + " lacks " + missing + " on the existing target table " + t
                        + " (the copy and the applier write it, validation reads it). Fix: GRANT " + missing + " ON "
                        + Sql.table(t) + " TO " + tgtRole);
            }
        }
    }

    /** The applier applies as a replica (no triggers, no cascades) when the target lets this role say so. */
    private static boolean canSetReplicationRole(Connection tgt) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            tgt.setAutoCommit(false);
            st.execute("SET LOCAL session_replication_role = replica");
            return true;
        } catch (SQLException e) {
            return false;
        } finally {
            tgt.rollback();
            tgt.setAutoCommit(true);
        }
    }

    /**
     * What fires on the target as the applier writes unless it applies as a replica: foreign keys with a cascading
     * action on a migrated table (the source's cascade is already in the stream, row by row), and the table's enabled
     * user triggers (their effects on migrated tables are in the stream too).
     */
    private static List<String> actionsThatWouldFireTwice(Connection src, List<TableRef> tables) throws SQLException {
        List<String> out = new ArrayList<>();
        for (TableRef t : tables) {
            try (PreparedStatement ps = src.prepareStatement("""
                    SELECT 'foreign key ' || quote_ident(k.conname) || ' ON ' || CASE WHEN k.confdeltype IN ('c', 'n', 'd')
                             THEN 'DELETE ' ELSE 'UPDATE ' END || CASE greatest(k.confdeltype, k.confupdtype)
                             WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END
                      FROM pg_constraint k
                     WHERE k.contype = 'f' AND k.conrelid IN (SELECT CAST(? AS regclass) UNION SELECT relid FROM pg_partition_tree(CAST(? AS regclass)))
                       AND (k.confdeltype IN ('c', 'n', 'd') OR k.confupdtype IN ('c', 'n', 'd')) AND k.conparentid = 0
                    UNION ALL
                    SELECT 'trigger ' || quote_ident(g.tgname) FROM pg_trigger g
                     WHERE g.tgrelid IN (SELECT CAST(? AS regclass) UNION SELECT relid FROM pg_partition_tree(CAST(? AS regclass)))
                       AND NOT g.tgisinternal AND g.tgparentid = 0 AND g.tgenabled IN ('O', 'A')""")) {
                for (int i = 1; i <= 4; i++) {
                    ps.setString(i, Sql.table(t)); // pg_partition_tree lists nothing for a table outside any partition tree
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1) + " of " + t);
                    }
                }
            }
        }
        return out;
    }

    private static void longTransactions(Connection src, List<String> problems) throws SQLException {
        try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT pid, usename, extract(epoch FROM now() - xact_start)::int, left(query, 60)
                  FROM pg_stat_activity
                 WHERE xact_start < now() - interval '5 minutes' AND pid <> pg_backend_pid() AND backend_type = 'client backend'""")) {
            while (rs.next()) {
                problems.add("transaction of pid " + rs.getInt(1) + " (" + rs.getString(2) + ") has been open " + rs.getInt(3)
                        + " s: slot creation would wait for it. End it (or pg_terminate_backend(" + rs.getInt(1)
                        + ")) and retry; query: " + rs.getString(4));
            }
        }
    }

    private static void extensions(Connection src, Connection tgt, List<String> problems) throws SQLException {
        Map<String, String> used = new LinkedHashMap<>();
        try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery("SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'")) {
            while (rs.next()) {
                used.put(rs.getString(1), rs.getString(2));
            }
        }
        for (String ext : used.keySet()) {
            if (!Pg.exists(tgt, "SELECT 1 FROM pg_available_extensions WHERE name = ?", ext)) {
                problems.add("extension " + ext + " (" + used.get(ext) + ") is used on the source but not available on the target: install it there");
            }
        }
    }

    /** Either every table exists on the target with the same columns and no rows, or none exists (then it is created). */
    private static void targetTables(Connection src, Connection tgt, List<TableRef> tables, List<String> problems) throws SQLException {
        for (TableRef t : tables) {
            List<String> srcCols = columns(src, t);
            List<String> tgtCols = columns(tgt, t);
            if (tgtCols.isEmpty()) {
                continue;
            }
            if (!srcCols.equals(tgtCols)) {
                problems.add("table " + t + " exists on the target with different columns: source " + srcCols + ", target " + tgtCols
                        + ". Make them match, or drop the target table so dbmigrate creates it");
                continue;
            }
            try (Statement st = tgt.createStatement(); ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM " + Sql.table(t) + ")")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    problems.add("table " + t + " on the target already holds rows: dbmigrate copies into empty tables. TRUNCATE it on the target first");
                }
            }
        }
    }

    static List<String> columns(Connection c, TableRef t) throws SQLException {
        List<String> cols = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                 WHERE a.attrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?)
                   AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cols.add(rs.getString(1));
                }
            }
        }
        return cols;
    }
}
