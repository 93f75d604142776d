package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Turns change events into statements on the target, inside the caller's transaction, in event order.
 *
 * <p>Every value is bound as an untyped parameter holding PostgreSQL text, so the target column's own input function
 * parses it: no value passes through a Java type. Consecutive events that need the same statement go out as one
 * JDBC batch (pipelined, one round trip), which the applier's connection turns into multi-row INSERTs for inserts
 * and upserts (a run is cut where an upsert would touch the same row twice); order across statements is kept.
 */
final class TargetWriter {
    /** The statement an event needs, and the values it binds, in order. */
    private record Bound(String sql, List<String> values, int expectedCount, ChangeEvent event, Supplier<String> key,
            List<String> upsertKey) {
        Bound(String sql, List<String> values, int expectedCount, ChangeEvent event, Supplier<String> key) {
            this(sql, values, expectedCount, event, key, null);
        }
    }

    private final Connection conn;
    private final Map<TableRef, TableMeta> tables = new HashMap<>();
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private final Map<Shape, String> insertSql = new HashMap<>();

    /** A table and the columns an event carries. */
    private record Shape(TableRef table, List<String> columns) {}

    TargetWriter(Connection conn) {
        this.conn = conn;
    }

    void forget() {
        for (PreparedStatement ps : statements.values()) {
            try {
                ps.close();
            } catch (SQLException ignored) {
                // the connection is being replaced
            }
        }
        statements.clear();
        tables.clear();
        insertSql.clear();
    }

    /**
     * The target refused a batch, and the batch does not say reliably which of its changes it refused (pgjdbc's
     * update counts covered the whole run, so a refused 37th row was reported as the run's last). The transaction
     * is lost; the caller applies the same changes again with {@code oneByOne} to name the change.
     */
    static final class BatchRefused extends SQLException {
        BatchRefused(SQLException cause) {
            super(cause.getMessage(), cause.getSQLState(), cause);
        }
    }

    /**
     * Applies the events in order; throws ApplyDataException naming the first event the target refuses, or
     * BatchRefused when a batch was refused and {@code oneByOne} (one statement per event) is off.
     */
    void apply(List<ChangeEvent> events, boolean oneByOne) throws SQLException {
        List<Bound> run = new ArrayList<>();
        Set<List<String>> upserted = new HashSet<>();
        for (ChangeEvent e : keyChangesAsUpdates(events)) {
            Bound b = bind(e);
            // a batch of inserts goes out as multi-row INSERTs of up to 128 rows, and one upsert cannot touch a row twice (21000)
            boolean again = b.upsertKey() != null && upserted.contains(b.upsertKey());
            if (!run.isEmpty() && (again || !run.get(0).sql().equals(b.sql()))) {
                flush(run, oneByOne);
                run.clear();
                upserted.clear();
            }
            run.add(b);
            if (b.upsertKey() != null) {
                upserted.add(b.upsertKey());
            }
        }
        if (!run.isEmpty()) {
            flush(run, oneByOne);
        }
    }

    /**
     * Debezium sends an update that changes a row's key as a DELETE of the old key and a CREATE of the new row, both
     * at the update's LSN. When the new row holds a TOASTed value that the update left unchanged, pgoutput did not
     * send that value, so the CREATE cannot rebuild the row: the pair becomes one UPDATE of the old key, which moves
     * the row and keeps the value where it is.
     */
    static List<ChangeEvent> keyChangesAsUpdates(List<ChangeEvent> events) {
        List<ChangeEvent> out = null;
        for (int i = 0; i < events.size(); i++) {
            ChangeEvent e = events.get(i);
            ChangeEvent next = i + 1 < events.size() ? events.get(i + 1) : null;
            if (e.kind() == ChangeEvent.Kind.DELETE && next != null && next.kind() == ChangeEvent.Kind.INSERT
                    && next.lsn() == e.lsn() && Objects.equals(next.txId(), e.txId()) && next.table().equals(e.table())
                    && e.before() != null && next.after().containsValue(ChangeEvent.UNCHANGED_TOAST)) {
                if (out == null) {
                    out = new ArrayList<>(events.subList(0, i));
                }
                out.add(new ChangeEvent(ChangeEvent.Kind.UPDATE, next.offset(), next.txId(), next.table(), e.before(),
                        next.after(), next.lsn(), next.commitMicros(), next.snapshot(), next.order()));
                i++;
            } else if (out != null) {
                out.add(e);
            }
        }
        return out == null ? events : out;
    }

    private void flush(List<Bound> run, boolean oneByOne) throws SQLException {
        PreparedStatement ps = statements.get(run.get(0).sql());
        if (ps == null) {
            ps = conn.prepareStatement(run.get(0).sql());
            statements.put(run.get(0).sql(), ps);
        }
        int[] counts = new int[run.size()];
        if (run.size() == 1 || oneByOne) {
            for (int i = 0; i < run.size(); i++) {
                bindValues(ps, run.get(i).values());
                try {
                    counts[i] = ps.executeUpdate();
                } catch (SQLException e) {
                    throw classify(run.get(i), e);
                }
            }
        } else {
            for (Bound b : run) {
                bindValues(ps, b.values());
                ps.addBatch();
            }
            try {
                counts = ps.executeBatch();
            } catch (BatchUpdateException e) {
                SQLException cause = e.getNextException() != null ? e.getNextException() : e;
                if (ApplyErrors.isTransient(cause)) {
                    throw cause;
                }
                throw new BatchRefused(cause);
            }
        }
        for (int i = 0; i < counts.length; i++) {
            Bound b = run.get(i);
            if (b.expectedCount() >= 0 && counts[i] != b.expectedCount() && counts[i] != Statement.SUCCESS_NO_INFO) {
                throw new ApplyDataException(b.event(), b.key().get(), "expected to change " + b.expectedCount()
                        + " row, changed " + counts[i] + " (the target is missing this row: it differs from the source)", null);
            }
        }
    }

    private static RuntimeException classify(Bound b, SQLException e) throws SQLException {
        if (ApplyErrors.isTransient(e)) {
            throw e;
        }
        return new ApplyDataException(b.event(), b.key().get(), "SQLSTATE " + e.getSQLState() + ": " + e.getMessage(), e);
    }

    private static void bindValues(PreparedStatement ps, List<String> values) throws SQLException {
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            if (v == null) {
                ps.setNull(i + 1, Types.OTHER);
            } else {
                ps.setObject(i + 1, v, Types.OTHER);
            }
        }
    }

    TableMeta meta(TableRef t) throws SQLException {
        TableMeta m = tables.get(t);
        if (m == null) {
            m = TableMeta.load(conn, t);
            tables.put(t, m);
        }
        return m;
    }

    private Bound bind(ChangeEvent e) throws SQLException {
        TableMeta m = meta(e.table());
        String table = Sql.table(e.table());
        Map<String, String> after = e.after();
        Map<String, String> before = e.before();
        switch (e.kind()) {
            case TRUNCATE:
                // the source can only have truncated this table together with every table referencing it
                return new Bound("TRUNCATE TABLE " + table + " CASCADE", List.of(), -1, e, () -> "(all rows)");
            case DELETE:
                return keyed(e, m, table, "DELETE FROM " + table, List.of(), before);
            case INSERT:
            case READ:
                return insert(e, m, table, after, writable(m, after, e));
            case UPDATE:
                List<String> columns = writable(m, after, e);
                List<String> set = columns.stream().filter(c -> !ChangeEvent.UNCHANGED_TOAST.equals(after.get(c))).toList();
                boolean complete = set.size() == columns.size();
                boolean keyChanged = m.hasKey() && before != null
                        && m.key().stream().anyMatch(k -> before.get(k) != null && !Objects.equals(before.get(k), after.get(k)));
                if (complete && !keyChanged && m.hasKey()) {
                    return insert(e, m, table, after, columns);
                }
                List<String> setCols = set.stream().filter(c -> !m.columns().get(c).identityAlways() || keyChanged).toList();
                String assignments = setCols.isEmpty()
                        // nothing to change but the row must exist: a self-assignment keeps the row-count check
                        ? Sql.ident(m.columns().keySet().iterator().next()) + " = " + Sql.ident(m.columns().keySet().iterator().next())
                        : setCols.stream().map(c -> Sql.ident(c) + " = ?").collect(Collectors.joining(", "));
                String sql = "UPDATE " + table + " SET " + assignments;
                List<String> values = setCols.stream().map(after::get).toList();
                Map<String, String> keySource = m.hasKey() ? (keyChanged ? before : after) : before;
                return keyed(e, m, table, sql, values, keySource);
            default:
                throw new IllegalStateException("not a data event: " + e.kind());
        }
    }

    private Bound insert(ChangeEvent e, TableMeta m, String table, Map<String, String> after, List<String> cols) {
        for (String c : cols) {
            if (ChangeEvent.UNCHANGED_TOAST.equals(after.get(c))) {
                throw new ApplyDataException(e, keyText(m, after), "column " + c
                        + " arrived as an unchanged TOAST value in an insert (REPLICA IDENTITY or capture error)", null);
            }
        }
        String sql = insertSql.computeIfAbsent(new Shape(e.table(), cols), k -> insertSql(m, table, cols));
        int expected = m.hasKey() && cols.size() == m.key().size() ? -1 : 1;
        List<String> upsertKey = m.hasKey() ? m.key().stream().map(after::get).toList() : null;
        return new Bound(sql, cols.stream().map(after::get).toList(), expected, e, () -> keyText(m, after), upsertKey);
    }

    /** The upsert for one table and column list: built once, not per change (the applier's hot path). */
    private static String insertSql(TableMeta m, String table, List<String> cols) {
        boolean overriding = cols.stream().anyMatch(c -> m.columns().get(c).identityAlways());
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" (").append(Sql.idents(cols)).append(")")
                .append(overriding ? " OVERRIDING SYSTEM VALUE" : "")
                .append(" VALUES (").append(cols.stream().map(c -> "?").collect(Collectors.joining(", "))).append(")");
        if (m.hasKey()) {
            List<String> update = cols.stream()
                    .filter(c -> !m.key().contains(c) && !m.columns().get(c).identityAlways()).toList();
            sql.append(" ON CONFLICT (").append(Sql.idents(m.key())).append(")");
            sql.append(update.isEmpty() ? " DO NOTHING"
                    : " DO UPDATE SET " + update.stream().map(c -> Sql.ident(c) + " = EXCLUDED." + Sql.ident(c))
                            .collect(Collectors.joining(", ")));
        }
        return sql.toString();
    }

    /**
     * Appends the WHERE clause that finds the row: by its key (the replica identity index's columns, else the primary
     * key), or by every column under REPLICA IDENTITY FULL.
     */
    private Bound keyed(ChangeEvent e, TableMeta m, String table, String head, List<String> values,
            Map<String, String> keySource) {
        if (keySource == null) {
            throw new ApplyDataException(e, "?", "the event carries no key for " + e.table()
                    + " (a table without a primary key needs REPLICA IDENTITY FULL on the source)", null);
        }
        List<String> bound = new ArrayList<>(values);
        String where;
        if (m.hasKey()) {
            where = " WHERE " + m.key().stream().map(k -> Sql.ident(k) + " = ?").collect(Collectors.joining(" AND "));
            m.key().forEach(k -> bound.add(keySource.get(k)));
        } else {
            // no key: the first row equal in every column, compared as the target's canonical text
            List<String> cols = keySource.keySet().stream().filter(c -> m.columns().containsKey(c)
                    && !ChangeEvent.UNCHANGED_TOAST.equals(keySource.get(c))).toList();
            where = " WHERE ctid = (SELECT ctid FROM " + table + " WHERE "
                    + cols.stream().map(c -> Sql.ident(c) + "::text IS NOT DISTINCT FROM CAST(? AS "
                            + m.columns().get(c).type() + ")::text").collect(Collectors.joining(" AND "))
                    + " LIMIT 1)";
            cols.forEach(c -> bound.add(keySource.get(c)));
        }
        return new Bound(head + where, bound, 1, e, () -> keyText(m, keySource));
    }

    private static List<String> writable(TableMeta m, Map<String, String> row, ChangeEvent e) {
        List<String> cols = new ArrayList<>();
        for (String c : row.keySet()) {
            TableMeta.Column col = m.columns().get(c);
            if (col == null) {
                throw new ApplyDataException(e, keyText(m, row), "column " + c + " does not exist on the target table "
                        + e.table() + " (a DDL change on the source?)", null);
            }
            if (!col.generated()) {
                cols.add(c);
            }
        }
        return cols;
    }

    static String keyText(TableMeta m, Map<String, String> row) {
        if (row == null) {
            return "?";
        }
        return ApplyDataException.keyText(m.hasKey() ? m.key() : new ArrayList<>(row.keySet()), row);
    }
}
