package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Sequences are not replicated (FIELD-NOTES #5). Inside the write freeze each target sequence of the migrated
 * schemas is set to the greater of the source's value and the max of every column it feeds on the target, then
 * read back to verify.
 */
public final class Sequences {
    private Sequences() {}

    public static List<String> sync(MigrationPlan plan, List<TableRef> tables, Runnable heartbeat) throws SQLException {
        Set<String> schemas = new LinkedHashSet<>();
        tables.forEach(t -> schemas.add(t.schema()));
        List<String> out = new ArrayList<>();
        try (Connection src = Pg.connect(plan.source(), "dbmigrate-sequences"); Connection tgt = Pg.connect(plan.target(), "dbmigrate-sequences")) {
            for (String schema : schemas) {
                try (PreparedStatement ps = src.prepareStatement(
                        "SELECT sequencename, coalesce(last_value, start_value), last_value IS NOT NULL FROM pg_sequences WHERE schemaname = ?")) {
                    ps.setString(1, schema);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            heartbeat.run(); // each may scan a column for its max
                            out.add(sync(tgt, schema, rs.getString(1), rs.getLong(2), rs.getBoolean(3)));
                        }
                    }
                }
            }
        }
        return out;
    }

    private static String sync(Connection tgt, String schema, String seq, long sourceValue, boolean called) throws SQLException {
        String qualified = Sql.table(schema, seq);
        long value = sourceValue;
        boolean isCalled = called;
        // every column the sequence feeds on the target (owned-by and identity columns)
        try (PreparedStatement ps = tgt.prepareStatement("""
                SELECT n.nspname, c.relname, a.attname FROM pg_depend d
                  JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.objid = ?::regclass AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')""")) {
            ps.setString(1, qualified);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    try (Statement st = tgt.createStatement(); ResultSet m = st.executeQuery("SELECT max(" + Sql.ident(rs.getString(3))
                            + ")::bigint FROM " + Sql.table(rs.getString(1), rs.getString(2)))) {
                        if (m.next() && m.getObject(1) != null && m.getLong(1) >= value) {
                            value = m.getLong(1);
                            isCalled = true;
                        }
                    }
                }
            }
        }
        try (PreparedStatement ps = tgt.prepareStatement("SELECT setval(?::regclass, ?, ?)")) {
            ps.setString(1, qualified);
            ps.setLong(2, value);
            ps.setBoolean(3, isCalled);
            ps.execute();
        }
        try (PreparedStatement ps = tgt.prepareStatement("SELECT last_value FROM " + qualified)) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) != value) {
                    throw new SQLException("sequence " + schema + "." + seq + " reads " + rs.getLong(1) + " after setval(" + value + ")");
                }
            }
        }
        return schema + "." + seq + "=" + value;
    }
}
