package io.dbmigrate.activities.validation;

import io.dbmigrate.activities.validation.Difference.Kind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A table without a primary key, compared as a multiset of rows: a row is its 64-bit hash, and each side must hold
 * every row as many times as the other. One pass per side sums rows and hashes per bucket of the hash's low bits
 * (at most 65,536 buckets, about {@code chunkRows} rows each); the buckets that differ are then streamed from both
 * sides as (hash, count) in hash order and merged, so memory is bounded by the buckets, never by the rows. A
 * difference is reported by row hash: missing (the source holds the row more often) or extra.
 *
 * <p>Live mode re-reads the bucket sums, the source first and the target after it caught up, until they agree or
 * the rounds are spent; only the buckets that still differ are streamed. When the source changed between the
 * re-reads the table is reported {@code unsettled}, not different.
 *
 * <p>Each side is read in block ranges like a keyed table's pass (in parallel, each finished range recorded in the
 * {@link Progress}), so a long pass resumes where it stopped and a cancellation waits for one range, not the table.
 */
final class Keyless {
    private static final int MAX_BITS = 16;

    private final ValidationEngine engine;
    private final TableSql sql;
    private final ValidationEngine.CatchUp catchUp;
    private final Consumer<String> log;

    Keyless(ValidationEngine engine, TableSql sql, ValidationEngine.CatchUp catchUp, Consumer<String> log) {
        this.engine = engine;
        this.sql = sql;
        this.catchUp = catchUp;
        this.log = log;
    }

    TableReport compare(long t0) throws SQLException, InterruptedException {
        String name = sql.table.toString();
        long mask = mask(name);
        ValidationEngine.RangeSums how = (side, sliced, from, to) -> buckets(side, mask, sliced, from, to);
        Progress.Pass[] passes = engine.pass(sql, how);
        @SuppressWarnings("unchecked")
        Map<Integer, Sum>[] sums = new Map[] {passes[0].sums(), passes[1].sums()};
        TreeSet<Integer> differing = differing(sums);
        // a source read that changed since the round before: a writer moved the table while it was re-checked
        boolean moving = false;
        int rounds = 0;
        for (int round = 0; catchUp != null && !differing.isEmpty() && round < engine.options.recheckRounds(); round++) {
            log.accept(sql.table + ": " + differing.size() + " hash buckets differ; reading again after the target catches up");
            Map<Integer, Sum> src = engine.read(sql, true, how);
            moving |= !src.equals(sums[0]);
            rounds++;
            engine.awaitCatchUp();
            Map<Integer, Sum> tgt = engine.read(sql, false, how);
            @SuppressWarnings("unchecked")
            Map<Integer, Sum>[] again = new Map[] {src, tgt};
            sums = again;
            differing = differing(sums);
        }
        long srcRows = sums[0].values().stream().mapToLong(Sum::rows).sum();
        long tgtRows = sums[1].values().stream().mapToLong(Sum::rows).sum();
        ValidationEngine.Found f = engine.new Found(new AtomicInteger(engine.options.maxKeys()));
        if (!differing.isEmpty()) {
            merge(mask, differing, f);
        }
        engine.counters.release(f.keys.size());
        long all = f.missing + f.extra + f.different;
        // rows without a key cannot be re-read one by one: when the writer moved the table in every round, what still
        // differs may be the writer's last changes, not yet applied; the check with writes stopped decides
        String unsettled = all > 0 && moving ? "written during each of " + rounds
                + " whole re-checks; decided inside the write freeze" : null;
        return new TableReport(name, true, srcRows, tgtRows, (int) mask + 1, differing.size(), f.missing, f.extra,
                f.different, List.copyOf(f.keys), all > f.keys.size(), ValidationEngine.seconds(t0), null, unsettled);
    }

    /**
     * The mask of the hash buckets: about {@code chunkRows} rows a bucket, at most 65,536 buckets; chosen once and
     * recorded as the table's plan (an empty bound, which no keyed table's plan holds, then the number of buckets), so
     * that a resumed pass adds up the same buckets.
     */
    private long mask(String name) throws SQLException {
        Optional<List<List<String>>> planned = engine.progress.bounds(name);
        if (planned.isPresent()) {
            List<List<String>> p = planned.get();
            if (p.size() != 2 || !p.get(0).isEmpty() || p.get(1).size() != 1) {
                throw ValidationEngine.otherPlan(name, "keyed");
            }
            return Long.parseLong(p.get(1).get(0)) - 1;
        }
        long estimate;
        try (Connection c = engine.source.get()) {
            estimate = ValidationEngine.estimate(c, sql);
        }
        int bits = 0;
        while (bits < MAX_BITS && (estimate >> bits) > engine.options.chunkRows()) {
            bits++;
        }
        engine.progress.planned(name, List.of(List.of(), List.of(Long.toString(1L << bits))));
        return (1L << bits) - 1;
    }

    private Map<Integer, Sum> buckets(Sessions side, long mask, boolean sliced, long from, Long to) throws SQLException {
        Map<Integer, Sum> out = new HashMap<>();
        try (Connection c = side.get(); PreparedStatement ps = c.prepareStatement(sql.bucketSums(sliced))) {
            ps.setLong(1, mask);
            if (sliced) {
                ValidationEngine.bindBlocks(ps, 2, from, to);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put((int) rs.getLong(1), new Sum(rs.getLong(2), rs.getString(3)));
                }
            }
        }
        return out;
    }

    private static TreeSet<Integer> differing(Map<Integer, Sum>[] sums) {
        TreeSet<Integer> out = new TreeSet<>(sums[0].keySet());
        out.addAll(sums[1].keySet());
        out.removeIf(b -> java.util.Objects.equals(sums[0].get(b), sums[1].get(b)));
        return out;
    }

    private void merge(long mask, TreeSet<Integer> buckets, ValidationEngine.Found f) throws SQLException {
        int fetch = engine.options.fetchSize();
        try (Connection a = engine.source.get(); Connection b = engine.target.get()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            try (PreparedStatement pa = a.prepareStatement(sql.bucketRows()); PreparedStatement pb = b.prepareStatement(sql.bucketRows())) {
                for (PreparedStatement ps : List.of(pa, pb)) {
                    ps.setFetchSize(fetch);
                    ps.setLong(1, mask);
                    ps.setArray(2, ps.getConnection().createArrayOf("bigint", buckets.stream().map(Long::valueOf).toArray()));
                }
                engine.counters.hold(2L * fetch);
                try (ResultSet ra = pa.executeQuery(); ResultSet rb = pb.executeQuery()) {
                    boolean hasA = ra.next();
                    boolean hasB = rb.next();
                    while (hasA || hasB) {
                        long ha = hasA ? ra.getLong(1) : 0;
                        long hb = hasB ? rb.getLong(1) : 0;
                        int c = !hasA ? 1 : !hasB ? -1 : Long.compare(ha, hb);
                        long na = c <= 0 ? ra.getLong(2) : 0;
                        long nb = c >= 0 ? rb.getLong(2) : 0;
                        if (na > nb) {
                            f.add(Kind.MISSING, List.of(Long.toString(c <= 0 ? ha : hb)), "row hash: source " + na + ", target " + nb, na - nb);
                        } else if (nb > na) {
                            f.add(Kind.EXTRA, List.of(Long.toString(c >= 0 ? hb : ha)), "row hash: source " + na + ", target " + nb, nb - na);
                        }
                        if (c <= 0) {
                            hasA = ra.next();
                        }
                        if (c >= 0) {
                            hasB = rb.next();
                        }
                        engine.counters.rowsStreamed.incrementAndGet();
                    }
                } finally {
                    engine.counters.release(2L * fetch);
                }
            } finally {
                a.rollback();
                b.rollback();
            }
        }
    }
}
