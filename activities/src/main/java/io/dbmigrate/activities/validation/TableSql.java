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
 * The SQL the engine runs on one table, built from the source's catalog so that the target's column order (or a
 * dropped column in its history) changes nothing.
 *
 * <p>The row's canonical text is {@code ROW(r.c1, r.c2, ...)::text} in the source's column order, hashed with
 * {@code hashtextextended(.., 0)} (64 bits). Its text depends on session settings, which {@link Sessions} fixes on
 * every connection. Keys are compared in byte order on both sides, so that a key range holds the same keys on
 * clusters of different collations: a collatable key column is compared {@code COLLATE "C"} on a side whose column
 * collation is not already byte order (there its index cannot serve a range; where it is, the explicit collation
 * would keep the planner off the index, whose collation is "default").
 */
final class TableSql {
    final TableRef table;
    final List<String> columns;
    final List<String> key;
    final List<String> keyTypes;
    private final List<Boolean> keyCollatable;
    /**
     * One key column of a fixed-width type (integers, uuid, dates...): chunks found by {@code width_bucket}, a binary
     * search in C over an array. Over an array of variable-width elements (text) it walks the array from its start,
     * every row (measured: 1.8 times the cost of the pass at 200 bounds), so other keys use a CASE tree.
     */
    final boolean oneFixedWidthKey;
    /** Per key column and side: compare with an explicit COLLATE "C". */
    private final List<Boolean> collateSource;
    private final List<Boolean> collateTarget;
    /** The side's relation is partitioned: no block ranges of its own. */
    final boolean partitionedSource;
    final boolean partitionedTarget;

    private TableSql(TableRef table, List<String> columns, List<String> key, List<String> keyTypes, List<Boolean> keyCollatable,
            boolean oneFixedWidthKey, List<Boolean> collateSource,
            List<Boolean> collateTarget, boolean partitionedSource, boolean partitionedTarget) {
        this.table = table;
        this.columns = columns;
        this.key = key;
        this.keyTypes = keyTypes;
        this.keyCollatable = keyCollatable;
        this.oneFixedWidthKey = oneFixedWidthKey;
        this.collateSource = collateSource;
        this.collateTarget = collateTarget;
        this.partitionedSource = partitionedSource;
        this.partitionedTarget = partitionedTarget;
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
        List<String> key = src.primaryKey();
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
        Set<String> fixed = new HashSet<>();
        try (PreparedStatement ps = source.prepareStatement("SELECT a.attname FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid"
                + " WHERE a.attrelid = CAST(? AS regclass) AND a.attnum > 0 AND ty.typlen > 0")) {
            ps.setString(1, Sql.table(t));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    fixed.add(rs.getString(1));
                }
            }
        }
        Set<String> s = notByteOrder(source, t);
        Set<String> g = notByteOrder(target, t);
        return new TableSql(t, List.copyOf(src.columns().keySet()), key, key.stream().map(k -> src.columns().get(k).type()).toList(),
                key.stream().map(collatable::contains).toList(), key.size() == 1 && fixed.contains(key.get(0)),
                key.stream().map(s::contains).toList(), key.stream().map(g::contains).toList(), partitioned(source, t),
                partitioned(target, t));
    }

    /** Collatable columns whose collation on this side is not byte order (C or POSIX of the libc provider). */
    private static Set<String> notByteOrder(Connection c, TableRef t) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
                 WHERE a.attrelid = CAST(? AS regclass) AND a.attnum > 0 AND a.attcollation <> 0
                   AND NOT (co.collname IN ('C', 'POSIX')
                            OR a.attcollation = 100 AND EXISTS (SELECT FROM pg_database d WHERE d.datname = current_database()
                                   AND d.datcollate IN ('C', 'POSIX') AND coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') = 'c'))""")) {
            ps.setString(1, Sql.table(t));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static boolean partitioned(Connection c, TableRef t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT relkind = 'p' FROM pg_class WHERE oid = CAST(? AS regclass)")) {
            ps.setString(1, Sql.table(t));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
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

    /** Key columns in byte order, as this side's index can serve them. */
    private String keyOrder(boolean onSource) {
        List<Boolean> collate = onSource ? collateSource : collateTarget;
        return IntStream.range(0, key.size()).mapToObj(i -> "r." + Sql.ident(key.get(i)) + (collate.get(i) ? " COLLATE \"C\"" : ""))
                .collect(Collectors.joining(", "));
    }

    private String keyText() {
        return key.stream().map(k -> "r." + Sql.ident(k) + "::text").collect(Collectors.joining(", "));
    }

    private String bound() {
        return "(" + IntStream.range(0, key.size()).mapToObj(i -> "CAST(? AS " + keyTypes.get(i) + ")").collect(Collectors.joining(", ")) + ")";
    }

    /** {@code WHERE key >= lo AND key < hi} (a null bound is open), to be bound by {@link #bind}. */
    String where(KeyRange range, boolean onSource) {
        String c = condition(range, onSource);
        return c.isEmpty() ? "" : " WHERE " + c;
    }

    /** The range's condition, empty when both ends are open. */
    private String condition(KeyRange range, boolean onSource) {
        List<String> w = new ArrayList<>();
        if (range.lo() != null) {
            w.add("(" + keyOrder(onSource) + ") >= " + bound());
        }
        if (range.hi() != null) {
            w.add("(" + keyOrder(onSource) + ") < " + bound());
        }
        return String.join(" AND ", w);
    }

    /** Binds the range's bounds from parameter {@code first}; returns the next free parameter. */
    static int bind(PreparedStatement ps, int first, KeyRange range) throws SQLException {
        int i = first;
        for (List<String> b : java.util.Arrays.asList(range.lo(), range.hi())) {
            if (b != null) {
                for (String v : b) {
                    ps.setObject(i++, v, Types.OTHER);
                }
            }
        }
        return i;
    }

    /** This side's primary-key index serves byte order (no key column needs an explicit COLLATE "C" here). */
    boolean indexServes(boolean onSource) {
        return !(onSource ? collateSource : collateTarget).contains(true);
    }

    /** The planner's correlation of the leading key column with the physical order (parameters: schema, table, column). */
    static String keyCorrelation() {
        return "SELECT correlation FROM pg_stats WHERE schemaname = ? AND tablename = ? AND attname = ? AND NOT inherited";
    }

    /**
     * Rows and hash sums of chunks that have both bounds, each read by its key range (one plan, executed per chunk):
     * parameters, the chunks' indexes (an int array), then per key column the low bounds and the high bounds (text
     * arrays, each bound cast to the column's type). For a side whose rows follow the key, where a range is a run of pages.
     */
    String keyRangeSums(boolean onSource) {
        StringBuilder arrays = new StringBuilder("CAST(? AS int[])");
        StringBuilder names = new StringBuilder("i");
        for (int k = 0; k < key.size(); k++) {
            // text arrays, each bound cast on its own: a key type may have no array type, or be an array itself
            arrays.append(", CAST(? AS text[]), CAST(? AS text[])");
            names.append(", l").append(k).append(", h").append(k);
        }
        String lo = IntStream.range(0, key.size()).mapToObj(k -> "CAST(b.l" + k + " AS " + keyTypes.get(k) + ")").collect(Collectors.joining(", "));
        String hi = IntStream.range(0, key.size()).mapToObj(k -> "CAST(b.h" + k + " AS " + keyTypes.get(k) + ")").collect(Collectors.joining(", "));
        return "SELECT b.i, s.n, s.h FROM unnest(" + arrays + ") AS b(" + names + ") CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum("
                + rowHash() + "), 0)::text AS h" + from() + " WHERE (" + keyOrder(onSource) + ") >= (" + lo + ") AND (" + keyOrder(onSource)
                + ") < (" + hi + ")) s";
    }

    /** Rows and the sum of their hashes in one key range. */
    String rangeHash(KeyRange range, boolean onSource) {
        return "SELECT count(*), coalesce(sum(" + rowHash() + "), 0)::text" + from() + where(range, onSource);
    }

    /**
     * Per-chunk sums over one block range of the table, as SQL and the order its bound parameters take: the bounds
     * first ({@code boundOrder} lists which bound each parameter block is, or is null when one array holds them all),
     * then the block range's two tids when sliced.
     */
    record ChunkSums(String sql, List<Integer> boundOrder) {}

    /**
     * Rows and hash sums per chunk in one block range (TID range scan, PostgreSQL 14+; {@code sliced} false reads the
     * whole relation). A row's chunk is how many bounds are at or below its key (0 to the number of bounds). One key
     * column of a fixed-width type: {@code width_bucket} over the bounds as one array (a binary search in C). Others:
     * the binary search written out as nested CASEs of (row) comparisons, one parameter per bound and column.
     */
    ChunkSums chunkSums(int bounds, boolean sliced) {
        StringBuilder chunk = new StringBuilder();
        List<Integer> order = null;
        if (bounds == 0) {
            chunk.append('0');
        } else if (oneFixedWidthKey) {
            chunk.append("width_bucket(").append(byteOrderKey()).append(", CAST(? AS ").append(keyTypes.get(0)).append("[]))");
        } else {
            order = new ArrayList<>();
            caseTree(0, bounds, chunk, order);
        }
        // OFFSET 0 keeps the subquery whole: the planner then counts the chunk numbers' distinct values by default (200)
        // instead of by the key's (as many as rows), and hashes them rather than sorting every row to group it
        String sql = "SELECT c, count(*), sum(h)::text FROM (SELECT " + chunk + " AS c, " + rowHash() + " AS h" + from()
                + (sliced ? " WHERE r.ctid >= CAST(? AS tid) AND r.ctid < CAST(? AS tid)" : "") + " OFFSET 0) s GROUP BY c";
        return new ChunkSums(sql, order);
    }

    /** Key columns in byte order with no regard to an index (the chunk of a row, the sample's order). */
    private String byteOrderKey() {
        return IntStream.range(0, key.size()).mapToObj(i -> "r." + Sql.ident(key.get(i)) + (collatable(i) ? " COLLATE \"C\"" : ""))
                .collect(Collectors.joining(", "));
    }

    private boolean collatable(int i) {
        // a column of byte order on both sides needs no COLLATE for an index, but here no index is involved, and the
        // bounds (parameters) carry no collation of their own: always explicit
        return keyCollatable.get(i);
    }

    /** Bounds [l, r): the number of bounds at or below the key, by halving; records which bound each parameter block is. */
    private void caseTree(int l, int r, StringBuilder out, List<Integer> order) {
        if (l == r) {
            out.append(l);
            return;
        }
        int mid = (l + r) / 2;
        out.append("CASE WHEN (").append(byteOrderKey()).append(") >= ").append(bound()).append(" THEN ");
        order.add(mid);
        caseTree(mid + 1, r, out, order);
        out.append(" ELSE ");
        caseTree(l, mid, out, order);
        out.append(" END");
    }

    /**
     * Every {@code step}-th key of a range in key order, read from the primary key's index where this side's order is
     * byte order: the split points of a range that differs.
     */
    String splitPoints(KeyRange range, boolean onSource) {
        return "SELECT " + key.stream().map(k -> "k." + Sql.ident(k) + "::text").collect(Collectors.joining(", ")) + " FROM (SELECT "
                + key.stream().map(k -> "r." + Sql.ident(k)).collect(Collectors.joining(", ")) + ", row_number() OVER (ORDER BY "
                + keyOrder(onSource) + ") AS dbmigrate_rn" + from() + where(range, onSource) + ") k WHERE k.dbmigrate_rn % ? = 0"
                + " ORDER BY k.dbmigrate_rn";
    }

    /**
     * Chunk bounds from a sample of blocks: every {@code step}-th key (parameter 2) of the sampled rows in byte order,
     * at {@code percent} of the table's blocks (parameter 1).
     */
    String sampleBounds() {
        return "SELECT " + key.stream().map(k -> "k." + Sql.ident(k) + "::text").collect(Collectors.joining(", ")) + " FROM (SELECT "
                + key.stream().map(k -> "r." + Sql.ident(k)).collect(Collectors.joining(", ")) + ", row_number() OVER (ORDER BY "
                + byteOrderKey() + ") AS dbmigrate_rn FROM " + Sql.table(table) + " r TABLESAMPLE SYSTEM (CAST(? AS real))) k"
                + " WHERE k.dbmigrate_rn % ? = 0 ORDER BY k.dbmigrate_rn";
    }

    /**
     * The keys of some ranges with each row's hash, ordered by the keys' text in byte order: both sides stream in the same
     * order whatever the key types, and the JVM compares the texts' UTF-8 bytes ({@link KeyRange#compareKeys}).
     */
    String rangeRows(List<KeyRange> ranges, boolean onSource) {
        return "SELECT " + keyText() + ", " + rowHash() + from() + where(ranges, onSource) + " ORDER BY "
                + keyTextOrder();
    }

    /**
     * As {@link #rangeRows}, only the rows whose key hash falls in some buckets: after the ranges' bounds, the mask and
     * the buckets (a bigint array). The row hash is computed for those rows only.
     */
    String rangeRowsIn(List<KeyRange> ranges, boolean onSource) {
        String w = where(ranges, onSource);
        return "SELECT " + keyText() + ", " + rowHash() + from() + (w.isEmpty() ? " WHERE " : w + " AND ") + "(" + keyHash()
                + " & CAST(? AS bigint)) = ANY (CAST(? AS bigint[])) ORDER BY "
                + keyTextOrder();
    }

    /**
     * Rows and hash sums of some ranges per bucket of the key's hash (after the ranges' bounds, the mask): where in
     * differing ranges the differing rows are, before any row is streamed. A key falls in the same bucket on both sides.
     */
    String rangeBuckets(List<KeyRange> ranges, boolean onSource) {
        return "SELECT b, count(*), sum(h)::text FROM (SELECT " + keyHash() + " & CAST(? AS bigint) AS b, " + rowHash() + " AS h"
                + from() + where(ranges, onSource) + ") s GROUP BY b";
    }

    /** The streaming order of {@link #rangeRows}: the key columns' texts in byte order. */
    private String keyTextOrder() {
        return key.stream().map(k -> "r." + Sql.ident(k) + "::text COLLATE \"C\"").collect(Collectors.joining(", "));
    }

    /** The key's 64-bit hash, over its text. */
    private String keyHash() {
        return "hashtextextended(" + (key.size() == 1 ? "r." + Sql.ident(key.get(0)) + "::text"
                : "ROW(" + key.stream().map(k -> "r." + Sql.ident(k)).collect(Collectors.joining(", ")) + ")::text") + ", 0)";
    }

    /** {@code WHERE (range) OR (range) ...}, empty when one of them is unbounded. */
    private String where(List<KeyRange> ranges, boolean onSource) {
        List<String> any = ranges.stream().map(r -> condition(r, onSource)).toList();
        return any.contains("") ? "" : " WHERE ((" + String.join(") OR (", any) + "))";
    }

    /** The rows at the given keys (one text array per key column) with their hashes. */
    String rowsAtKeys() {
        String aliases = IntStream.range(0, key.size()).mapToObj(i -> "k" + i).collect(Collectors.joining(", "));
        String on = IntStream.range(0, key.size()).mapToObj(i -> "r." + Sql.ident(key.get(i)) + " = CAST(k.k" + i + " AS "
                + keyTypes.get(i) + ")").collect(Collectors.joining(" AND "));
        return "SELECT " + keyText() + ", " + rowHash() + from() + " JOIN unnest("
                + key.stream().map(k -> "CAST(? AS text[])").collect(Collectors.joining(", ")) + ") AS k(" + aliases + ") ON " + on;
    }

    /**
     * Keyless: rows and hash sums per bucket of the hash's low bits (parameter 1: the mask), over one block range
     * (parameters 2 and 3, the range's two tids) when {@code sliced}, else the whole relation.
     */
    String bucketSums(boolean sliced) {
        return "SELECT h & CAST(? AS bigint), count(*), sum(h)::text FROM (SELECT " + rowHash() + " AS h" + from()
                + (sliced ? " WHERE r.ctid >= CAST(? AS tid) AND r.ctid < CAST(? AS tid)" : "") + ") s GROUP BY 1";
    }

    /** Keyless: each distinct row hash of the given buckets with its number of rows, by hash. */
    String bucketRows() {
        return "SELECT h, count(*) FROM (SELECT " + rowHash() + " AS h" + from() + ") s WHERE h & CAST(? AS bigint) = ANY (CAST(? AS bigint[]))"
                + " GROUP BY h ORDER BY h";
    }

    /** Estimated rows (planner statistics; never a scan); a partitioned table's are its leaf partitions'. */
    String estimate() {
        // never analysed: a generous guess from the size (more chunks than needed costs little)
        String one = "CASE WHEN p.reltuples > 0 THEN p.reltuples::bigint"
                + " ELSE pg_relation_size(p.oid) / current_setting('block_size')::int * 100 END";
        return "SELECT coalesce(sum(" + one + "), 0)::bigint FROM pg_class c JOIN pg_class p ON p.oid = c.oid AND c.relkind <> 'p'"
                + " OR p.oid IN (SELECT relid FROM pg_partition_tree(c.oid) WHERE isleaf)"
                + " WHERE c.oid = CAST(? AS regclass)";
    }

    /** The relation's blocks now (its size; a partitioned table has none of its own). */
    String blocks() {
        return "SELECT pg_relation_size(CAST(? AS regclass)) / current_setting('block_size')::int,"
                + " current_setting('server_version_num')::int";
    }
}
