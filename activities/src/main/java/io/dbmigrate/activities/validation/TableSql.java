package io.dbmigrate.activities.validation;

import io.dbmigrate.activities.pipeline.TableMeta;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The SQL the engine runs on one table, the same text on both sides: built from the source's catalog so that the
 * target's column order (or a dropped column in its history) changes nothing.
 *
 * <p>The row's canonical text is {@code ROW(r.c1, r.c2, ...)::text} in the source's column order, hashed with
 * {@code hashtextextended(.., 0)} (64 bits). Its text depends on session settings, which {@link Sessions} fixes on
 * every connection. Keys are compared in byte order: every collatable key column is compared {@code COLLATE "C"},
 * so the chunk ranges hold the same keys on clusters of different collations.
 */
final class TableSql {
    final TableRef table;
    final List<String> columns;
    final List<String> key;
    private final List<String> keyTypes;
    private final List<Boolean> keyCollatable;

    private TableSql(TableRef table, List<String> columns, List<String> key, List<String> keyTypes, List<Boolean> keyCollatable) {
        this.table = table;
        this.columns = columns;
        this.key = key;
        this.keyTypes = keyTypes;
        this.keyCollatable = keyCollatable;
    }

    /** The source's shape, checked against the target's: the same columns, or an error naming what differs. */
    static TableSql load(Connection source, Connection target, TableRef t) throws SQLException {
        TableMeta src = TableMeta.load(source, t);
        TableMeta tgt = TableMeta.load(target, t);
        Set<String> onlySource = new HashSet<>(src.columns().keySet());
        onlySource.removeAll(tgt.columns().keySet());
        Set<String> onlyTarget = new HashSet<>(tgt.columns().keySet());
        onlyTarget.removeAll(src.columns().keySet());
        List<String> typeDiffers = src.columns().values().stream()
                .filter(c -> tgt.columns().containsKey(c.name()) && !tgt.columns().get(c.name()).type().equals(c.type()))
                .map(c -> c.name() + " (" + c.type() + " vs " + tgt.columns().get(c.name()).type() + ")").toList();
        if (!onlySource.isEmpty() || !onlyTarget.isEmpty() || !typeDiffers.isEmpty()) {
            throw new SQLException("table " + t + " has other columns on the target: only on the source " + onlySource
                    + ", only on the target " + onlyTarget + ", other types " + typeDiffers
                    + "; compare tables of the same definition", "42703");
        }
        Set<String> collatable = new HashSet<>();
        try (PreparedStatement ps = source.prepareStatement(
                "SELECT attname FROM pg_attribute WHERE attrelid = CAST(? AS regclass) AND attnum > 0 AND attcollation <> 0")) {
            ps.setString(1, Sql.table(t));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    collatable.add(rs.getString(1));
                }
            }
        }
        List<String> key = src.primaryKey();
        return new TableSql(t, List.copyOf(src.columns().keySet()), key,
                key.stream().map(k -> src.columns().get(k).type()).toList(),
                key.stream().map(collatable::contains).toList());
    }

    boolean keyless() {
        return key.isEmpty();
    }

    String from() {
        return " FROM " + Sql.table(table) + " r";
    }

    /** The row's 64-bit hash (bigint). */
    String rowHash() {
        return "hashtextextended(ROW(" + columns.stream().map(c -> "r." + Sql.ident(c)).collect(Collectors.joining(", "))
                + ")::text, 0)";
    }

    /** One pass over the whole table: the baseline a chunked validation is measured against. */
    String wholeTableHash() {
        return "SELECT count(*), coalesce(sum(" + rowHash() + "), 0)::text" + from();
    }

    /** Key columns as the index orders them, collatable ones in byte order. */
    private String keyOrder() {
        return IntStream.range(0, key.size()).mapToObj(i -> "r." + Sql.ident(key.get(i)) + (keyCollatable.get(i) ? " COLLATE \"C\"" : ""))
                .collect(Collectors.joining(", "));
    }

    private String keyText() {
        return key.stream().map(k -> "r." + Sql.ident(k) + "::text").collect(Collectors.joining(", "));
    }

    private String bound() {
        return "(" + IntStream.range(0, key.size()).mapToObj(i -> "CAST(? AS " + keyTypes.get(i) + ")").collect(Collectors.joining(", ")) + ")";
    }

    /** {@code WHERE key > lo AND key <= hi} (a null bound is open), to be bound by {@link #bind}. */
    String where(KeyRange range) {
        List<String> w = new ArrayList<>();
        if (range.lo() != null) {
            w.add("(" + keyOrder() + ") > " + bound());
        }
        if (range.hi() != null) {
            w.add("(" + keyOrder() + ") <= " + bound());
        }
        return w.isEmpty() ? "" : " WHERE " + String.join(" AND ", w);
    }

    /** Binds the range's bounds from parameter {@code first}; returns the next free parameter. */
    static int bind(PreparedStatement ps, int first, KeyRange range) throws SQLException {
        int i = first;
        for (List<String> b : new ArrayList<>(java.util.Arrays.asList(range.lo(), range.hi()))) {
            if (b != null) {
                for (String v : b) {
                    ps.setObject(i++, v, Types.OTHER);
                }
            }
        }
        return i;
    }

    /** Rows and the sum of their hashes in one key range. */
    String rangeHash(KeyRange range) {
        return "SELECT count(*), coalesce(sum(" + rowHash() + "), 0)::text" + from() + where(range);
    }

    /**
     * Every {@code step}-th key of a range in key order, read from the primary key's index (an index-only scan when
     * the visibility map allows): the split points of a range that differs.
     */
    String splitPoints(KeyRange range) {
        return "SELECT " + key.stream().map(k -> "k." + Sql.ident(k) + "::text").collect(Collectors.joining(", ")) + " FROM (SELECT "
                + key.stream().map(k -> "r." + Sql.ident(k)).collect(Collectors.joining(", ")) + ", row_number() OVER (ORDER BY "
                + keyOrder() + ") AS dbmigrate_rn" + from() + where(range) + ") k WHERE k.dbmigrate_rn % ? = 0 ORDER BY k.dbmigrate_rn";
    }

    /**
     * Chunk bounds from a sample of blocks: every {@code step}-th key (parameter 2) of the sampled rows in key order,
     * at {@code percent} of the table's blocks (parameter 1).
     */
    String sampleBounds() {
        return "SELECT " + key.stream().map(k -> "k." + Sql.ident(k) + "::text").collect(Collectors.joining(", ")) + " FROM (SELECT "
                + key.stream().map(k -> "r." + Sql.ident(k)).collect(Collectors.joining(", ")) + ", row_number() OVER (ORDER BY "
                + keyOrder() + ") AS dbmigrate_rn FROM " + Sql.table(table) + " r TABLESAMPLE SYSTEM (CAST(? AS real))) k"
                + " WHERE k.dbmigrate_rn % ? = 0 ORDER BY k.dbmigrate_rn";
    }

    /**
     * The keys of a range with each row's hash, ordered by the keys' text in byte order: both sides stream in the same
     * order whatever the key types, and the JVM compares the texts' UTF-8 bytes ({@link KeyRange#compareKeys}).
     */
    String rangeRows(KeyRange range) {
        return "SELECT " + keyText() + ", " + rowHash() + from() + where(range) + " ORDER BY "
                + key.stream().map(k -> "r." + Sql.ident(k) + "::text COLLATE \"C\"").collect(Collectors.joining(", "));
    }

    /** The rows at the given keys (one text array per key column) with their hashes. */
    String rowsAtKeys() {
        String aliases = IntStream.range(0, key.size()).mapToObj(i -> "k" + i).collect(Collectors.joining(", "));
        String on = IntStream.range(0, key.size()).mapToObj(i -> "r." + Sql.ident(key.get(i)) + " = CAST(k.k" + i + " AS "
                + keyTypes.get(i) + ")").collect(Collectors.joining(" AND "));
        return "SELECT " + keyText() + ", " + rowHash() + from() + " JOIN unnest("
                + key.stream().map(k -> "CAST(? AS text[])").collect(Collectors.joining(", ")) + ") AS k(" + aliases + ") ON " + on;
    }

    /** Keyless: rows and hash sums per bucket of the hash's low bits (parameter 1: the mask), in one pass. */
    String bucketSums() {
        return "SELECT h & CAST(? AS bigint), count(*), sum(h)::text FROM (SELECT " + rowHash() + " AS h" + from() + ") s GROUP BY 1";
    }

    /** Keyless: each distinct row hash of the given buckets with its number of rows, by hash. */
    String bucketRows() {
        return "SELECT h, count(*) FROM (SELECT " + rowHash() + " AS h" + from() + ") s WHERE h & CAST(? AS bigint) = ANY (CAST(? AS bigint[]))"
                + " GROUP BY h ORDER BY h";
    }

    /** Estimated rows (planner statistics; never a scan). */
    String estimate() {
        return "SELECT CASE WHEN c.reltuples > 0 THEN c.reltuples::bigint"
                // never analysed: a generous guess from the size (more chunks than needed costs little)
                + " ELSE pg_relation_size(c.oid) / current_setting('block_size')::int * 100 END"
                + " FROM pg_class c WHERE c.oid = CAST(? AS regclass)";
    }
}
