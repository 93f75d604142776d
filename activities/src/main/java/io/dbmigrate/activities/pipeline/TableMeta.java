package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the applier needs to know about a table on the side it writes to. {@code identityKey} holds the columns of
 * the replica identity index of a table with REPLICA IDENTITY USING INDEX (the target gets the source's setting with
 * its postData), empty otherwise.
 */
public record TableMeta(TableRef table, Map<String, Column> columns, List<String> primaryKey, List<String> identityKey) {

    /** {@code type} is format_type() output, already quoted where needed. */
    public record Column(String name, String type, boolean generated, boolean identityAlways) {}

    public boolean hasPrimaryKey() {
        return !primaryKey.isEmpty();
    }

    /**
     * The columns that name a row in this table's changes: those of its replica identity index when it has one
     * (before-images hold only those, and Debezium's key columns are then missing), else its primary key.
     */
    public List<String> key() {
        return identityKey.isEmpty() ? primaryKey : identityKey;
    }

    public boolean hasKey() {
        return !key().isEmpty();
    }

    public boolean hasIdentityAlways() {
        return columns.values().stream().anyMatch(Column::identityAlways);
    }

    public static TableMeta load(Connection c, TableRef t) throws SQLException {
        Map<String, Column> cols = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', a.attidentity = 'a'
                  FROM pg_attribute a
                 WHERE a.attrelid = (SELECT oid FROM pg_class WHERE relname = ? AND relnamespace =
                                       (SELECT oid FROM pg_namespace WHERE nspname = ?))
                   AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""")) {
            ps.setString(1, t.name());
            ps.setString(2, t.schema());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cols.put(rs.getString(1), new Column(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4)));
                }
            }
        }
        if (cols.isEmpty()) {
            throw new SQLException("table " + Sql.table(t) + " does not exist on " + c.getMetaData().getURL(), "42P01");
        }
        List<String> pk = indexColumns(c, t, "i.indisprimary");
        // a partitioned table's partitions each have their own replica identity: only a plain table's counts
        List<String> identity = indexColumns(c, t, "i.indisreplident AND r.relreplident = 'i' AND r.relkind = 'r'");
        return new TableMeta(t, cols, pk, identity);
    }

    /** The columns of the table's index that matches {@code condition} (a fixed SQL condition on i and r), in order. */
    private static List<String> indexColumns(Connection c, TableRef t, String condition) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname
                  FROM pg_class r
                  JOIN pg_index i ON i.indrelid = r.oid
                  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE r.oid = (SELECT oid FROM pg_class WHERE relname = ? AND relnamespace =
                                  (SELECT oid FROM pg_namespace WHERE nspname = ?))
                   AND """ + " " + condition + " ORDER BY k.ord")) {
            ps.setString(1, t.name());
            ps.setString(2, t.schema());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        return List.copyOf(columns);
    }
}
