package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationId;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * The write fence on the source: a statement trigger {@code dbmigrate_<id>_fence} on every migrated table that
 * refuses INSERT, UPDATE, DELETE and TRUNCATE with SQLSTATE 55000. Creating it waits for in-flight writes on each
 * table (bounded by lock_timeout), so once it is in place no application write can commit on the source. The
 * applier and the reverse stream write with session_replication_role = replica, where it does not fire.
 *
 * <p>The fence is a lease: it refuses writes only until {@code fence_lease.expires_at}, set to the plan's
 * {@code cutover.maxWritePauseSeconds} plus {@link #LEASE_GRACE_SECONDS} when it is set. The workflow decides the
 * point of no return only before its own deadline, which is earlier, and otherwise removes the fence itself; the
 * lease is what reopens the source when no worker is left to do it. Just before the point of no return the lease is
 * made permanent ({@link #hold}): from then on the old source refuses application writes until {@link #retire}.
 *
 * <p>dbmigrate's own applier (the reverse stream writes the old source during the fallback window) passes: it runs
 * with {@code session_replication_role = replica} where it may, where the trigger does not fire, and otherwise
 * announces itself with the custom setting {@value #APPLIER_SETTING}, which needs no privilege.
 *
 * <p>The fence lives in a schema of its own ({@code dbmigrate_<id>_fence}), so tearing the streams down (which drops
 * their control schemas) never lifts it by accident.
 */
public final class Fence {
    public static final String SQLSTATE = "55000";

    private Fence() {}

    static String triggerName(MigrationPlan plan) {
        return MigrationId.objectName(plan.migrationId()) + "_fence";
    }

    static String function(MigrationPlan plan) {
        return Sql.table(controlSchema(plan), "fence");
    }

    static String leaseTable(MigrationPlan plan) {
        return Sql.table(controlSchema(plan), "fence_lease");
    }

    /**
     * How long the lease outlives the workflow's deadline: the deadline is measured by the Temporal server's clock
     * from before the fence was set, the lease by the source's clock from its commit; this covers the clocks' skew.
     */
    public static final int LEASE_GRACE_SECONDS = 10;

    /**
     * Fence sessions ignore a read-only default: after {@link #retire} set it on the database, a retried retire (or a
     * removal) must still be able to drop the fence.
     */
    private static final java.util.Map<String, String> WRITABLE = Pg.settings(java.util.Map.of("default_transaction_read_only", "off"));

    private static Connection connect(MigrationPlan plan, String applicationName) throws SQLException {
        return Pg.connect(plan.source(), applicationName, WRITABLE);
    }

    /** Set by dbmigrate's applier in its sessions: the fence lets that session's writes through. */
    public static final String APPLIER_SETTING = io.dbmigrate.activities.pipeline.ChangeApplier.APPLIER_SETTING;

    /** The fence's own schema on the fenced side: the trigger function and the lease. */
    static String controlSchema(MigrationPlan plan) {
        return MigrationId.objectName(plan.migrationId()) + "_fence";
    }

    /** How long one attempt waits for a table's lock before it lets go of everything and tries again. */
    static final int ATTEMPT_LOCK_TIMEOUT_MS = 50;

    /**
     * Sets the fence on every table in one transaction; returns the source's WAL position once it holds.
     *
     * <p>Locking several tables while applications write to them can deadlock: a transaction holding one table and
     * waiting for another that the fence already holds (seen in the demo: an order and its items). PostgreSQL then
     * needs deadlock_timeout (1 s by default) to abort one side, the application's transaction or the fence. So each
     * attempt waits at most {@value #ATTEMPT_LOCK_TIMEOUT_MS} ms for any lock, gives up all of them and tries again,
     * until {@code lockTimeoutSeconds} are spent: applications never get a deadlock error from the fence, and a
     * long transaction still ends the cutover with SQLSTATE 55P03.
     */
    public static String set(MigrationPlan plan, List<TableRef> tables, Runnable heartbeat) throws SQLException {
        int lockTimeoutSeconds = plan.cutoverOrDefault().lockTimeoutSeconds();
        int leaseSeconds = plan.cutoverOrDefault().maxWritePauseSeconds() + LEASE_GRACE_SECONDS;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(lockTimeoutSeconds);
        try (Connection c = connect(plan, "dbmigrate-fence"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (int attempt = 1; ; attempt++) {
                heartbeat.run();
                try {
                    return attempt(plan, tables, leaseSeconds, c, st);
                } catch (SQLException e) {
                    c.rollback();
                    boolean lockConflict = "55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
                    if (!lockConflict || System.nanoTime() > deadline) {
                        throw e;
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(attempt, 10) * 5L));
                }
            }
        }
    }

    private static String attempt(MigrationPlan plan, List<TableRef> migrated, int leaseSeconds, Connection c, Statement st)
            throws SQLException {
        st.execute("SET LOCAL lock_timeout = '" + ATTEMPT_LOCK_TIMEOUT_MS + "ms'");
        List<TableRef> tables = withPartitions(c, migrated);
        st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(controlSchema(plan)));
        st.execute("CREATE TABLE IF NOT EXISTS " + leaseTable(plan) + " (expires_at timestamptz NOT NULL)");
        st.execute("DELETE FROM " + leaseTable(plan));
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + leaseTable(plan)
                + " VALUES (clock_timestamp() + make_interval(secs => ?))")) {
            ps.setInt(1, leaseSeconds);
            ps.executeUpdate();
        }
        // SECURITY DEFINER: the application's roles need no access to dbmigrate's schema for the lease to be read
        st.execute("CREATE OR REPLACE FUNCTION " + function(plan) + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                + "SET search_path = pg_catalog, pg_temp AS $fence$ BEGIN "
                + "IF current_setting('" + APPLIER_SETTING + "', true) = 'on' THEN RETURN NULL; END IF; "
                + "IF EXISTS (SELECT 1 FROM " + leaseTable(plan) + " WHERE expires_at > clock_timestamp()) THEN "
                + "RAISE EXCEPTION 'writes to %.% are paused: dbmigrate is switching this database over (migration "
                + plan.migrationId().replace("'", "") + ")', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = '" + SQLSTATE + "'; "
                + "END IF; RETURN NULL; END $fence$");
        // every lock first (the mode CREATE TRIGGER takes), so no trigger waits while others are held half-built
        st.execute("LOCK TABLE " + tables.stream().map(Sql::table).collect(Collectors.joining(", "))
                + " IN SHARE ROW EXCLUSIVE MODE");
        for (TableRef t : tables) {
            st.execute("DROP TRIGGER IF EXISTS " + Sql.ident(triggerName(plan)) + " ON " + Sql.table(t));
            st.execute("CREATE TRIGGER " + Sql.ident(triggerName(plan)) + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                    + Sql.table(t) + " FOR EACH STATEMENT EXECUTE FUNCTION " + function(plan) + "()");
        }
        c.commit();
        try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            String lsn = rs.getString(1);
            c.commit();
            return lsn;
        }
    }

    /**
     * The tables and every partition under them: a statement trigger on a partitioned table does not see a write made
     * to one of its partitions directly (INSERT, UPDATE, DELETE, COPY or TRUNCATE on the partition), so each partition
     * gets the fence too.
     */
    static List<TableRef> withPartitions(Connection c, List<TableRef> tables) throws SQLException {
        java.util.LinkedHashSet<TableRef> out = new java.util.LinkedHashSet<>(tables);
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, r.relname FROM pg_partition_tree(?::regclass) p"
                + " JOIN pg_class r ON r.oid = p.relid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE p.level > 0"
                + " ORDER BY p.level, n.nspname, r.relname")) {
            for (TableRef t : tables) {
                ps.setString(1, Sql.table(t));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new TableRef(rs.getString(1), rs.getString(2)));
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    /**
     * Makes the fence permanent: from the point of no return the old source refuses application writes until the
     * migration is finalized or rolled back, even with no worker left. Idempotent; fails if the fence is not in place
     * (then the cutover must not pass its point of no return).
     */
    public static void hold(MigrationPlan plan) throws SQLException {
        try (Connection c = connect(plan, "dbmigrate-fence"); Statement st = c.createStatement()) {
            if (!Pg.exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", controlSchema(plan))
                    || st.executeUpdate("UPDATE " + leaseTable(plan) + " SET expires_at = 'infinity'") != 1) {
                throw new SQLException("the write fence of migration " + plan.migrationId() + " is not in place on the source",
                        "55000");
            }
        }
    }

    /** What {@link #retire} did to the old source. */
    public record Retired(boolean readOnly, int sessionsEnded, List<String> sessionsLeft, boolean fenceRemoved) {}

    /**
     * The end of the old source's life as a primary: new sessions of its database start read-only
     * ({@code ALTER DATABASE ... SET default_transaction_read_only = on}), the sessions still open on it (an application
     * instance, a pool or a cron job that never moved) are ended so they reconnect read-only, and only then does the
     * fence go. Sessions this role may not end are named in the result. Idempotent.
     */
    public static Retired retire(MigrationPlan plan) throws SQLException {
        boolean readOnly;
        int ended = 0;
        List<String> left = new ArrayList<>();
        // this session predates the setting: it can still drop the fence afterwards
        try (Connection c = connect(plan, "dbmigrate-retire"); Statement st = c.createStatement()) {
            try {
                st.execute("ALTER DATABASE " + Sql.ident(plan.source().database()) + " SET default_transaction_read_only = on");
                readOnly = true;
            } catch (SQLException e) {
                if (!"42501".equals(e.getSQLState())) {
                    throw e;
                }
                readOnly = false; // not the database's owner: the fence stays, see below
            }
            if (readOnly) {
                // a role without pg_read_all_stats sees other roles' sessions with backend_type NULL: count them too
                List<String[]> sessions = new ArrayList<>();
                try (ResultSet rs = st.executeQuery("""
                        SELECT pid, usename, coalesce(application_name, ''), coalesce(client_addr::text, 'local')
                          FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                           AND (backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))
                           AND coalesce(application_name, '') NOT LIKE 'dbmigrate-%'""")) {
                    while (rs.next()) {
                        sessions.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
                    }
                }
                for (String[] s : sessions) {
                    // one at a time: a session of a role this one may not signal fails alone
                    try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
                        ps.setInt(1, Integer.parseInt(s[0]));
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            ended++;
                        }
                    } catch (SQLException e) {
                        if (!"42501".equals(e.getSQLState())) {
                            throw e;
                        }
                        left.add("pid " + s[0] + " (role " + s[1] + ", application " + s[2] + ", client " + s[3] + ")");
                    }
                }
            }
        }
        // without read-only the fence is all that protects the old source: it stays, held, and is reported
        boolean unfence = readOnly && left.isEmpty();
        if (unfence) {
            remove(plan);
        }
        return new Retired(readOnly, ended, left, unfence);
    }

    /** Removes the fence wherever it is; idempotent. Returns the tables it was removed from. */
    public static List<String> remove(MigrationPlan plan) throws SQLException {
        List<String> removed = new ArrayList<>();
        try (Connection c = connect(plan, "dbmigrate-fence")) {
            for (TableRef t : fencedTables(c, triggerName(plan))) {
                try (Statement st = c.createStatement()) {
                    st.execute("DROP TRIGGER IF EXISTS " + Sql.ident(triggerName(plan)) + " ON " + Sql.table(t));
                }
                removed.add(t.toString());
            }
            try (Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + Sql.ident(controlSchema(plan)) + " CASCADE");
            }
        }
        return removed;
    }

    static List<TableRef> fencedTables(Connection c, String trigger) throws SQLException {
        List<TableRef> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT n.nspname, r.relname FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid
                  JOIN pg_namespace n ON n.oid = r.relnamespace WHERE t.tgname = ?""")) {
            ps.setString(1, trigger);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new TableRef(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return out;
    }
}
