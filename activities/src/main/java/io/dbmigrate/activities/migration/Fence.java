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
 * lease is what reopens the source when no worker is left to do it.
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

    /** The forward stream's control schema on the source (it holds the heartbeat table too). */
    static String controlSchema(MigrationPlan plan) {
        return MigrationId.objectName(plan.migrationId());
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
        try (Connection c = Pg.connect(plan.source(), "dbmigrate-fence"); Statement st = c.createStatement()) {
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

    /** Removes the fence wherever it is; idempotent. Returns the tables it was removed from. */
    public static List<String> remove(MigrationPlan plan) throws SQLException {
        List<String> removed = new ArrayList<>();
        try (Connection c = Pg.connect(plan.source(), "dbmigrate-fence")) {
            for (TableRef t : fencedTables(c, triggerName(plan))) {
                try (Statement st = c.createStatement()) {
                    st.execute("DROP TRIGGER IF EXISTS " + Sql.ident(triggerName(plan)) + " ON " + Sql.table(t));
                }
                removed.add(t.toString());
            }
            if (Pg.exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", controlSchema(plan))) {
                try (Statement st = c.createStatement()) {
                    st.execute("DROP FUNCTION IF EXISTS " + function(plan) + "()");
                    st.execute("DROP TABLE IF EXISTS " + leaseTable(plan));
                }
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
