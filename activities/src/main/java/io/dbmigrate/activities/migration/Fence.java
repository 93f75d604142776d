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

/**
 * The write fence on the source: a statement trigger {@code dbmigrate_<id>_fence} on every migrated table that
 * refuses INSERT, UPDATE, DELETE and TRUNCATE with SQLSTATE 55000. Creating it waits for in-flight writes on each
 * table (bounded by lock_timeout), so once it is in place no application write can commit on the source. The
 * applier and the reverse stream write with session_replication_role = replica, where it does not fire.
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

    /** The forward stream's control schema on the source (it holds the heartbeat table too). */
    static String controlSchema(MigrationPlan plan) {
        return MigrationId.objectName(plan.migrationId());
    }

    /** Sets the fence on every table in one transaction; returns the source's WAL position once it holds. */
    public static String set(MigrationPlan plan, List<TableRef> tables, int lockTimeoutSeconds) throws SQLException {
        try (Connection c = Pg.connect(plan.source(), "dbmigrate-fence"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET LOCAL lock_timeout = '" + lockTimeoutSeconds + "s'");
            st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(controlSchema(plan)));
            st.execute("CREATE OR REPLACE FUNCTION " + function(plan) + "() RETURNS trigger LANGUAGE plpgsql AS $fence$ BEGIN "
                    + "RAISE EXCEPTION 'writes to %.% are paused: dbmigrate is switching this database over (migration "
                    + plan.migrationId().replace("'", "") + ")', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = '" + SQLSTATE + "'; "
                    + "END $fence$");
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
