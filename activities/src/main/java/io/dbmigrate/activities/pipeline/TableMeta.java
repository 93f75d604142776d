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

/** What the applier needs to know about a table on the side it writes to. */
public record TableMeta(TableRef table, Map<String, Column> columns, List<String> primaryKey) {

    /** {@code type} is format_type() output, already quoted where needed. */
    public record Column(String name, String type, boolean generated, boolean identityAlways) {}

    public boolean hasPrimaryKey() {
        return !primaryKey.isEmpty();
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
        List<String> pk = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname
                  FROM pg_index i
                  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE i.indrelid = (SELECT oid FROM pg_class WHERE relname = ? AND relnamespace =
                                       (SELECT oid FROM pg_namespace WHERE nspname = ?))
                   AND i.indisprimary
                 ORDER BY k.ord""")) {
            ps.setString(1, t.name());
            ps.setString(2, t.schema());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pk.add(rs.getString(1));
                }
            }
        }
        return new TableMeta(t, cols, List.copyOf(pk));
    }
}
