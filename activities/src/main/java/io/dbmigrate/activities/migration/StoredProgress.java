package io.dbmigrate.activities.migration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.activities.validation.ChunkVerdict;
import io.dbmigrate.activities.validation.Progress;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A validation's {@link Progress} kept on the target, in the stream's dbmigrate-owned schema (its cleanup drops it),
 * one row per table of a run; the activity's heartbeat names the run, nothing more.
 *
 * <p>Why not the heartbeat details: Temporal refuses details above 2 MB, and a table's progress holds its chunk bounds
 * and two sums per chunk. At the migration's default of 10,000 rows a chunk a 2,000,000-row table's progress is about
 * 24 KB of JSON, but the engine plans up to 65,536 chunks a table: about 8 MB for a bigint key, 10 MB for a uuid key
 * (measured, {@code StoredProgressTest}), and finished verdicts and reports of many tables add up. Capping the chunks
 * would make each differing chunk costlier to narrow, and compressing would not help much (the sums are random
 * digits). Here the size is the target's business, and a retry resumes from the last save whatever the tables.
 *
 * <p>The state lives in memory ({@link Progress.InMemory}) and is saved by {@link #save()}: the tables changed since
 * the last save, each as it stands (every change of the in-memory state is whole, so any saved state is one a run
 * went through). {@link #save()} after each table, {@link #saveIfDue} from the heartbeat.
 */
public final class StoredProgress implements Progress {
    public static final String TABLE = "validation_progress";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Endpoint target;
    private final String schema;
    private final String run;
    private final Progress.InMemory state;
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private long lastSave = System.nanoTime();
    private long lastSaveNanos;
    /** The table exists (created by this instance's first save): later saves skip the DDL. */
    private boolean created;

    private StoredProgress(Endpoint target, String schema, String run, Progress.InMemory state) {
        this.target = target;
        this.schema = schema;
        this.run = run;
        this.state = state;
    }

    /** A run that starts from nothing: whatever an attempt stored under this name before is removed. */
    public static StoredProgress fresh(Endpoint target, String schema, String run) throws SQLException {
        forget(target, schema, run);
        return new StoredProgress(target, schema, run, new Progress.InMemory());
    }

    /** A run that goes on from what its earlier attempts saved (nothing saved: from the start). */
    public static StoredProgress resume(Endpoint target, String schema, String run) throws SQLException {
        Map<String, Progress.InMemory.TableState> tables = new HashMap<>();
        try (Connection c = Pg.connect(target, "dbmigrate-validate");
                PreparedStatement ps = c.prepareStatement("SELECT table_name, state FROM " + Sql.table(schema, TABLE) + " WHERE run = ?")) {
            ps.setString(1, run);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.put(rs.getString(1), JSON.readValue(rs.getString(2), Progress.InMemory.TableState.class));
                }
            }
        } catch (SQLException e) {
            throwUnlessNothingSaved(e);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("validation progress of " + run + " unreadable: " + e.getMessage(), e);
        }
        return new StoredProgress(target, schema, run, new Progress.InMemory(tables));
    }

    /** Removes the run's rows (the validation ended: nothing will resume it). */
    public static void forget(Endpoint target, String schema, String run) throws SQLException {
        try (Connection c = Pg.connect(target, "dbmigrate-validate");
                PreparedStatement ps = c.prepareStatement("DELETE FROM " + Sql.table(schema, TABLE) + " WHERE run = ?")) {
            ps.setString(1, run);
            ps.executeUpdate();
        } catch (SQLException e) {
            throwUnlessNothingSaved(e);
        }
    }

    /** No schema or no table yet (42P01, 3F000): nothing was ever saved, which is no error. */
    private static void throwUnlessNothingSaved(SQLException e) throws SQLException {
        if (!"42P01".equals(e.getSQLState()) && !"3F000".equals(e.getSQLState())) {
            throw e;
        }
    }

    /** The state as it stands (for counting, not for changing). */
    public Progress.InMemory state() {
        return state;
    }

    /**
     * Saves when something changed and enough time passed: a second, or twenty times what the last save took (a large
     * state is not rewritten every second).
     */
    public synchronized void saveIfDue() throws SQLException {
        long since = System.nanoTime() - lastSave;
        if (!dirty.isEmpty() && since >= Math.max(1_000_000_000L, 20 * lastSaveNanos)) {
            save();
        }
    }

    /** Saves the tables changed since the last save. */
    public synchronized void save() throws SQLException {
        if (dirty.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        // names first, state after: a change made meanwhile marks its table again and is saved next time
        List<String> names = List.copyOf(dirty);
        dirty.removeAll(names);
        Map<String, Progress.InMemory.TableState> now = state.tables();
        try (Connection c = Pg.connect(target, "dbmigrate-validate")) {
            if (!created) {
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(schema));
                    st.execute("CREATE TABLE IF NOT EXISTS " + Sql.table(schema, TABLE) + " (run text, table_name text, "
                            + "state text NOT NULL, saved_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run, table_name))");
                }
                created = true;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + Sql.table(schema, TABLE)
                    + " (run, table_name, state) VALUES (?, ?, ?) ON CONFLICT (run, table_name) DO UPDATE SET state = EXCLUDED.state, "
                    + "saved_at = now()")) {
                for (String name : names) {
                    ps.setString(1, run);
                    ps.setString(2, name);
                    ps.setString(3, JSON.writeValueAsString(now.get(name)));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        } catch (SQLException | RuntimeException e) {
            dirty.addAll(names);
            throw e;
        } catch (JsonProcessingException e) {
            dirty.addAll(names);
            throw new IllegalStateException(e);
        }
        lastSave = System.nanoTime();
        lastSaveNanos = lastSave - t0;
    }

    @Override
    public Optional<List<List<String>>> bounds(String table) {
        return state.bounds(table);
    }

    @Override
    public void planned(String table, List<List<String>> bounds) {
        state.planned(table, bounds);
        dirty.add(table);
    }

    @Override
    public Optional<Pass> pass(String table, boolean source) {
        return state.pass(table, source);
    }

    @Override
    public void passed(String table, boolean source, Pass pass) {
        state.passed(table, source, pass);
        dirty.add(table);
    }

    @Override
    public Map<Integer, ChunkVerdict> finished(String table) {
        return state.finished(table);
    }

    @Override
    public void finished(String table, ChunkVerdict verdict) {
        state.finished(table, verdict);
        dirty.add(table);
    }

    @Override
    public Optional<TableReport> report(String table) {
        return state.report(table);
    }

    @Override
    public void reported(TableReport report) {
        state.reported(report);
        dirty.add(report.table());
    }
}
