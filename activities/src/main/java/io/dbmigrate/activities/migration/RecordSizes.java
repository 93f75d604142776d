package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.TableMeta;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Preflight's estimate of each table's largest change record against the pipeline's record limit
 * (limits.maxRecordBytes). A record is Debezium's JSON of one row's change with every value in its PostgreSQL text
 * form (bytea as hex), an envelope, and under REPLICA IDENTITY FULL the whole old row beside the new one. The widest
 * row is found cheaply: octet_length() of text and bytea reads a TOASTed value's raw size from its pointer without
 * fetching it; a table above {@link #EXACT_SCAN_BYTES} is read through TABLESAMPLE, so a single wide row in a large
 * table can go unseen (capture then stops with CaptureFailed naming the limit).
 */
final class RecordSizes {
    /** Debezium's envelope (source block, transaction, op, timestamps) and the record key: about 0.8 KB measured. */
    static final long ENVELOPE_BYTES = 2048;
    /** Heap (TOAST excluded) up to which every row is read; a larger table is sampled. */
    static final long EXACT_SCAN_BYTES = 256L * 1024 * 1024;
    /** About how much heap the sample reads. */
    static final long SAMPLE_BYTES = 32L * 1024 * 1024;

    private RecordSizes() {}

    /** One problem per table whose widest row (as far as read) would make a record above {@code limit}. */
    static List<String> problems(Connection src, List<TableRef> tables, long limit) throws SQLException {
        List<String> out = new ArrayList<>();
        for (TableRef t : tables) {
            if (!"t".equals(Pg.one(src, "SELECT has_table_privilege(CAST(? AS regclass), 'SELECT')::text::char", Sql.table(t)))) {
                continue; // reported by the privilege check
            }
            String row = rowExpression(src, t);
            long heap = Long.parseLong(Pg.one(src, "SELECT coalesce(sum(pg_relation_size(relid)), 0)::bigint FROM ("
                    + "SELECT CAST(? AS regclass) AS relid UNION SELECT relid FROM pg_partition_tree(CAST(? AS regclass))) x",
                    Sql.table(t), Sql.table(t)));
            boolean full = Pg.exists(src, "SELECT 1 FROM (SELECT CAST(? AS regclass) AS relid UNION SELECT relid "
                    + "FROM pg_partition_tree(CAST(? AS regclass))) x JOIN pg_class r ON r.oid = x.relid "
                    + "WHERE r.relreplident = 'f' AND r.relkind = 'r'", Sql.table(t), Sql.table(t));
            List<String> pk = TableMeta.load(src, t).primaryKey();
            String key = pk.isEmpty() ? "NULL" : "ROW(" + String.join(", ", pk.stream().map(Sql::ident).toList()) + ")::text";
            String sample = heap <= EXACT_SCAN_BYTES ? ""
                    : String.format(java.util.Locale.ROOT, " TABLESAMPLE SYSTEM (%.6f)", 100.0 * SAMPLE_BYTES / heap);
            String widestKey;
            long widest;
            try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery("SELECT " + key + ", " + row
                    + " AS bytes FROM " + Sql.table(t) + sample + " ORDER BY 2 DESC NULLS LAST LIMIT 1")) {
                if (!rs.next()) {
                    continue;
                }
                widestKey = rs.getString(1);
                widest = rs.getLong(2);
            } catch (SQLException e) {
                if ("42501".equals(e.getSQLState())) {
                    continue; // row-level security: reported by checkKeys
                }
                throw e;
            }
            long record = ENVELOPE_BYTES + (full ? 2 : 1) * widest;
            if (record > limit) {
                out.add("table " + t + (widestKey == null ? "" : " (row with key " + widestKey + ")") + " holds a row whose "
                        + "change record would be about " + record + " bytes" + (full ? " (REPLICA IDENTITY FULL carries it "
                        + "twice: old and new row)" : "") + ", above limits.maxRecordBytes = " + limit + (sample.isEmpty() ? ""
                        : " (seen in a sample)") + ". Fix: set limits.maxRecordBytes in the plan to at least " + roundUp(record)
                        + " (at most 1 GiB; above 100 MiB raise the Kafka broker's socket.request.max.bytes and Kafka "
                        + "Connect's heap too), or make the value smaller on the source");
            }
        }
        return out;
    }

    /** 1 MiB steps: a setting that reads well. */
    private static long roundUp(long bytes) {
        long mib = 1024L * 1024;
        return (bytes + mib - 1) / mib * mib;
    }

    /** SQL for the JSON size of one row: each column's name and its text form (NULL as null). */
    static String rowExpression(Connection src, TableRef t) throws SQLException {
        List<String> parts = new ArrayList<>();
        try (PreparedStatement ps = src.prepareStatement("""
                SELECT a.attname, a.atttypid = 'bytea'::regtype, ty.typcategory = 'S', ty.typlen
                  FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
                 WHERE a.attrelid = CAST(? AS regclass) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""")) {
            ps.setString(1, Sql.table(t));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String c = Sql.ident(rs.getString(1));
                    String value;
                    if (rs.getBoolean(2)) {
                        value = "2 * octet_length(" + c + ") + 4"; // "\\x" and two hex digits a byte
                    } else if (rs.getBoolean(3)) {
                        value = "octet_length(" + c + "::text) + 2"; // text to text reads the TOAST pointer only
                    } else if (rs.getInt(4) > 0) {
                        value = "40"; // a fixed-size value's text form (uuid, timestamps, numbers) is short
                    } else {
                        value = "octet_length(" + c + "::text) + 2";
                    }
                    parts.add("coalesce(" + value + ", 4) + " + (rs.getString(1).getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 4));
                }
            }
        }
        return parts.isEmpty() ? "0" : "(" + String.join(" + ", parts) + ")::bigint";
    }
}
