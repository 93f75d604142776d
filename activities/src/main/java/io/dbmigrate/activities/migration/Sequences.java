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
 * schemas, and each one a migrated table uses from elsewhere (a column default's nextval, OWNED BY), is set to the
 * source's value or past every value a column it feeds holds on the target (the max, or for a descending sequence the
 * min), then read back to verify.
 */
public final class Sequences {
    private Sequences() {}

    /**
     * The sequences the tables given as one oid[] parameter use, wherever they live: named by a column default
     * (nextval's regclass argument is a dependency of the default), owned by a column, or an identity's.
     */
    static final String USED_BY_TABLES = """
            SELECT d.refobjid FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
              JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
             WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ad.adrelid = ANY (?::pg_catalog.oid[])
            UNION
            SELECT d.objid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.deptype IN ('a', 'i') AND d.refobjid = ANY (?::pg_catalog.oid[])""";

    public static List<String> sync(MigrationPlan plan, List<TableRef> tables, Runnable heartbeat) throws SQLException {
        // a plan listing its tables brings only the sequences they use (TargetSchema.listsTables)
        Set<String> schemas = new LinkedHashSet<>();
        if (!TargetSchema.listsTables(plan)) {
            tables.forEach(t -> schemas.add(t.schema()));
        }
        List<String> out = new ArrayList<>();
        try (Connection src = Pg.connect(plan.source(), "dbmigrate-sequences"); Connection tgt = Pg.connect(plan.target(), "dbmigrate-sequences")) {
            // the tables and their partitions, as the source knows them
            Long[] oids;
            try (PreparedStatement ps = src.prepareStatement("SELECT array_agg(r.relid::oid::bigint) FROM unnest(?::text[]) t, "
                    + "LATERAL (SELECT t::regclass AS relid UNION SELECT relid FROM pg_partition_tree(t::regclass)) r")) {
                ps.setArray(1, src.createArrayOf("text", tables.stream().map(Sql::table).toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    oids = rs.getArray(1) == null ? new Long[0] : (Long[]) rs.getArray(1).getArray();
                }
            }
            try (PreparedStatement ps = src.prepareStatement("SELECT schemaname, sequencename, coalesce(last_value, start_value), "
                    + "last_value IS NOT NULL, increment_by FROM pg_sequences WHERE schemaname = ANY (?) OR "
                    + "(schemaname, sequencename) IN (SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE c.oid IN (" + USED_BY_TABLES + ")) ORDER BY 1, 2")) {
                ps.setArray(1, src.createArrayOf("text", schemas.toArray()));
                ps.setArray(2, src.createArrayOf("int8", oids));
                ps.setArray(3, src.createArrayOf("int8", oids));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        heartbeat.run(); // each may scan a column for its max
                        out.add(sync(tgt, rs.getString(1), rs.getString(2), rs.getLong(3), rs.getBoolean(4), rs.getLong(5) < 0));
                    }
                }
            }
        }
        return out;
    }

    private static String sync(Connection tgt, String schema, String seq, long sourceValue, boolean called, boolean descending)
            throws SQLException {
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
                    // a descending sequence hands out ever smaller values: the column's least is the one to pass
                    try (Statement st = tgt.createStatement(); ResultSet m = st.executeQuery("SELECT " + (descending ? "min(" : "max(")
                            + Sql.ident(rs.getString(3)) + ")::bigint FROM " + Sql.table(rs.getString(1), rs.getString(2)))) {
                        if (m.next() && m.getObject(1) != null && (descending ? m.getLong(1) <= value : m.getLong(1) >= value)) {
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
