package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Columns whose values the change path cannot carry exactly, found before anything is captured. Each problem names
 * the table, the column, its type and what to do; a table with one is refused, never silently changed.
 */
public final class TypeSupport {
    private TypeSupport() {}

    public static List<String> problems(Connection source, Connection target, List<TableRef> tables) throws SQLException {
        List<String> out = new ArrayList<>();
        String srcMonetary = setting(source, "lc_monetary");
        String tgtMonetary = setting(target, "lc_monetary");
        String byteaOutput = setting(source, "bytea_output");
        String intervalStyle = setting(source, "intervalstyle");
        for (TableRef t : tables) {
            try (PreparedStatement ps = source.prepareStatement("""
                    WITH RECURSIVE cols AS (
                      SELECT a.attname, a.atttypid AS typ, format_type(a.atttypid, a.atttypmod) AS declared
                        FROM pg_attribute a
                       WHERE a.attrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                            WHERE n.nspname = ? AND c.relname = ?)
                         AND a.attnum > 0 AND NOT a.attisdropped
                    ), base AS (
                      SELECT attname, declared, typ FROM cols
                      UNION ALL
                      SELECT b.attname, b.declared, t.typbasetype FROM base b JOIN pg_type t ON t.oid = b.typ
                       WHERE t.typtype = 'd'
                    )
                    SELECT b.attname, b.declared, t.typname
                      FROM base b JOIN pg_type t ON t.oid = b.typ
                     WHERE t.typtype <> 'd'""")) {
                ps.setString(1, t.schema());
                ps.setString(2, t.name());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String col = rs.getString(1);
                        String declared = rs.getString(2);
                        String base = rs.getString(3);
                        if (base.equals("timetz")) {
                            out.add("table " + t + " column " + col + " has type " + declared + " (time with time zone): "
                                    + "Debezium keeps only its UTC instant, so the original offset cannot be carried. "
                                    + "Fix: ALTER TABLE ... ALTER COLUMN " + col + " TYPE time or timestamptz, or exclude the table");
                        }
                        if (base.equals("money") && !srcMonetary.equals(tgtMonetary)) {
                            out.add("table " + t + " column " + col + " has type money but lc_monetary differs between source ("
                                    + srcMonetary + ") and target (" + tgtMonetary
                                    + "): money text depends on it. Fix: set the same lc_monetary on both, or use numeric");
                        }
                    }
                }
            }
        }
        if (!"hex".equals(byteaOutput)) {
            out.add("source bytea_output is " + byteaOutput + ": bytea values would be misread. "
                    + "Fix: ALTER ROLE <replication user> SET bytea_output = 'hex'");
        }
        if (!"postgres".equals(intervalStyle)) {
            out.add("source IntervalStyle is " + intervalStyle + ": interval values would be misread. "
                    + "Fix: ALTER ROLE <replication user> SET IntervalStyle = 'postgres'");
        }
        return out;
    }

    private static String setting(Connection c, String name) throws SQLException {
        return Pg.one(c, "SELECT current_setting(?)", name);
    }
}
