package io.dbmigrate.activities.validation;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.activities.validation.Difference.Kind;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Compares tables of two databases without holding either in memory.
 *
 * <p>Keyed tables are cut into primary-key ranges ("chunks", bounds sampled from the source, see {@link #plan}); each
 * chunk's row count and order-free hash ({@code sum} of each row's 64-bit hash) is computed inside PostgreSQL on both
 * sides at once, chunks in parallel over a bounded pool of sessions per side. A chunk that differs is narrowed: split
 * into sub-ranges at keys read from its index, the sub-ranges hashed again, down to ranges of at most
 * {@code leafRows} rows, whose keys and row hashes are streamed from both sides in the same order through cursors and
 * merged in the JVM: missing on the target, extra on the target, or different values. Keyless tables are compared as
 * multisets (see {@link Keyless}).
 *
 * <p>Frozen mode (no {@link CatchUp}): a difference is final. Live mode: the differing rows are read again on the
 * source, then on the target once {@link CatchUp#await} says it applied what the source held at that read, and only
 * what still differs counts. Progress goes to a {@link Progress} as chunks finish, and a run resumes from it.
 */
public final class ValidationEngine implements AutoCloseable {

    /**
     * @param chunkRows rows per chunk (aimed at; the sample decides)
     * @param parallel sessions per side, and chunks compared at once
     * @param maxRowsPerSec a limit on rows read per second per side (0: none), for a busy source
     * @param maxKeys differences kept per table for the report (all are counted)
     * @param leafRows a differing range of at most this many rows is streamed; larger ones are split first
     * @param fanout sub-ranges per split
     * @param fetchSize rows per cursor fetch while streaming
     * @param recheckRounds live mode: re-checks of the rows that differ
     */
    public record Options(int chunkRows, int parallel, long maxRowsPerSec, int maxKeys, int leafRows, int fanout,
            int fetchSize, int recheckRounds) {
        public static Options defaults() {
            return new Options(50_000, 2, 0, 1000, 10_000, 8, 1000, 3);
        }

        public Options withChunkRows(int n) {
            return new Options(n, parallel, maxRowsPerSec, maxKeys, leafRows, fanout, fetchSize, recheckRounds);
        }

        public Options withParallel(int n) {
            return new Options(chunkRows, n, maxRowsPerSec, maxKeys, leafRows, fanout, fetchSize, recheckRounds);
        }

        public Options withMaxRowsPerSec(long n) {
            return new Options(chunkRows, parallel, n, maxKeys, leafRows, fanout, fetchSize, recheckRounds);
        }

        public Options withMaxKeys(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, n, leafRows, fanout, fetchSize, recheckRounds);
        }

        public Options withLeafRows(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, maxKeys, n, fanout, fetchSize, recheckRounds);
        }

        public Options withFetchSize(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, maxKeys, leafRows, fanout, n, recheckRounds);
        }

        public Options {
            if (chunkRows < 1 || parallel < 1 || maxRowsPerSec < 0 || maxKeys < 0 || leafRows < 1 || fanout < 2 || fetchSize < 1
                    || recheckRounds < 1) {
                throw new IllegalArgumentException("validation options out of range: " + this);
            }
        }
    }

    /** Live mode: returns once the target has applied everything the source had committed when it was called. */
    public interface CatchUp {
        void await() throws Exception;
    }

    private static final int MAX_DEPTH = 40;

    final Sessions source;
    final Sessions target;
    final Options options;
    private final Progress progress;
    private final CatchUp catchUp;
    private final Consumer<String> log;
    private final ExecutorService chunkThreads;
    private final ExecutorService targetThreads;
    private final Throttle throttle;
    final Counters counters = new Counters();

    /** {@code catchUp} null: frozen mode, a difference is final. */
    public ValidationEngine(Endpoint source, Endpoint target, Options options, Progress progress, CatchUp catchUp,
            Consumer<String> log) {
        this.options = options;
        this.progress = progress;
        this.catchUp = catchUp;
        this.log = log;
        this.source = new Sessions(source, "source", options.parallel());
        try {
            this.target = new Sessions(target, "target", options.parallel());
        } catch (RuntimeException e) {
            this.source.close();
            throw e;
        }
        this.chunkThreads = Executors.newFixedThreadPool(options.parallel(), daemon("dbmigrate-validate"));
        this.targetThreads = Executors.newFixedThreadPool(options.parallel(), daemon("dbmigrate-validate-target"));
        this.throttle = new Throttle(options.maxRowsPerSec());
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    public Counters counters() {
        return counters;
    }

    /** Every table in turn; a table that cannot be compared is reported with its error and the others go on. */
    public ValidationReport run(List<TableRef> tables) throws InterruptedException {
        long t0 = System.nanoTime();
        List<TableReport> out = new ArrayList<>();
        for (TableRef t : tables) {
            try {
                out.add(table(t));
            } catch (SQLException e) {
                log.accept(t + ": " + e.getMessage());
                out.add(TableReport.failed(t.toString(), 0, e.getMessage()));
            }
        }
        return ValidationReport.of(source.endpoint.describe(), target.endpoint.describe(), seconds(t0), out);
    }

    /**
     * The tables a database holds outside the system schemas and dbmigrate's own ({@code dbmigrate_*}): ordinary and
     * partitioned tables, a partitioned table as its root only (its partitions are read through it).
     */
    public static List<TableRef> userTables(Endpoint e) throws SQLException {
        List<TableRef> out = new ArrayList<>();
        try (Connection c = io.dbmigrate.activities.sql.Pg.connect(e, "dbmigrate-validate");
                PreparedStatement ps = c.prepareStatement("""
                        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
                           AND n.nspname NOT LIKE 'dbmigrate\\_%'
                         ORDER BY 1, 2""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new TableRef(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    public TableReport table(TableRef t) throws SQLException, InterruptedException {
        String name = t.toString();
        java.util.Optional<TableReport> done = progress.report(name);
        if (done.isPresent()) {
            log.accept(name + ": finished by an earlier attempt");
            return done.get();
        }
        long t0 = System.nanoTime();
        TableSql sql;
        try (Connection s = source.get(); Connection g = target.get()) {
            sql = TableSql.load(s, g, t);
        }
        TableReport r = sql.keyless() ? new Keyless(this, sql, catchUp, log).compare(t0) : keyed(sql, t0);
        progress.reported(r);
        log.accept(String.format("%s: %s, %,d rows, %d chunks, %.1f s", name, r.equal() ? "equal"
                : "DIFFERS (" + r.missing() + " missing, " + r.extra() + " extra, " + r.different() + " different)",
                r.sourceRows(), r.chunks(), r.seconds()));
        return r;
    }

    /**
     * The simplest whole-table check, for comparison: rows and the sum of the same row hashes in one statement, one
     * pass over the table on one side ({@code "rows:sum"}).
     */
    public String wholeTable(TableRef t, boolean onSource) throws SQLException {
        try (Connection s = source.get(); Connection g = target.get()) {
            TableSql sql = TableSql.load(s, g, t);
            try (PreparedStatement ps = (onSource ? s : g).prepareStatement(sql.wholeTableHash()); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) + ":" + rs.getString(2);
            }
        }
    }

    private TableReport keyed(TableSql sql, long t0) throws SQLException, InterruptedException {
        String name = sql.table.toString();
        List<List<String>> bounds = progress.bounds(name).orElse(null);
        if (bounds == null) {
            bounds = plan(sql);
            progress.planned(name, bounds);
        }
        List<KeyRange> chunks = KeyRange.between(bounds);
        Map<Integer, ChunkVerdict> finished = new HashMap<>(progress.finished(name));
        int kept = finished.values().stream().mapToInt(v -> v.differences().size()).sum();
        AtomicInteger keyBudget = new AtomicInteger(Math.max(0, options.maxKeys() - kept));
        if (!finished.isEmpty()) {
            log.accept(name + ": resuming, " + finished.size() + " of " + chunks.size() + " chunks finished earlier");
        }
        List<Callable<ChunkVerdict>> work = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            if (!finished.containsKey(i)) {
                int index = i;
                work.add(() -> {
                    ChunkVerdict v = chunk(sql, index, chunks.get(index), keyBudget);
                    progress.finished(name, v);
                    return v;
                });
            }
        }
        for (ChunkVerdict v : all(chunkThreads, work)) {
            finished.put(v.index(), v);
        }
        List<ChunkVerdict> verdicts = finished.values().stream().sorted(Comparator.comparingInt(ChunkVerdict::index)).toList();
        long missing = 0;
        long extra = 0;
        long different = 0;
        List<Difference> keys = new ArrayList<>();
        for (ChunkVerdict v : verdicts) {
            missing += v.missing();
            extra += v.extra();
            different += v.different();
            keys.addAll(v.differences());
        }
        long srcRows = verdicts.stream().mapToLong(ChunkVerdict::sourceRows).sum();
        long tgtRows = verdicts.stream().mapToLong(ChunkVerdict::targetRows).sum();
        int differing = (int) verdicts.stream().filter(v -> !v.equal()).count();
        if (catchUp != null && missing + extra + different > 0) {
            Recheck r = recheck(sql, keys, missing, extra, different);
            keys = r.keys();
            missing = r.missing();
            extra = r.extra();
            different = r.different();
        }
        long all = missing + extra + different;
        return new TableReport(name, false, srcRows, tgtRows, chunks.size(), differing, missing, extra, different,
                List.copyOf(keys), all > keys.size(), seconds(t0), null);
    }

    /**
     * Chunk bounds from a block sample of the source, not from the whole key order. Walking the primary key index
     * ({@code WHERE key > last ORDER BY key OFFSET chunkRows LIMIT 1} per bound) reads every index entry, and every
     * heap page the visibility map does not vouch for; {@code TABLESAMPLE SYSTEM} reads a few percent of the heap's
     * blocks, a cost that follows the sample's size, not the table's. The chunks come out uneven (block sampling
     * clusters), which costs nothing: every chunk is hashed whole on both sides, whatever its size.
     */
    List<List<String>> plan(TableSql sql) throws SQLException {
        try (Connection c = source.get()) {
            long estimate;
            try (PreparedStatement ps = c.prepareStatement(sql.estimate())) {
                ps.setString(1, Sql.table(sql.table));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    estimate = rs.getLong(1);
                }
            }
            long chunks = (estimate + options.chunkRows() - 1) / options.chunkRows();
            if (chunks <= 1) {
                return List.of();
            }
            // about 200 sampled rows per chunk: chunk sizes within a few tens of percent of each other
            long wanted = Math.max(10_000, chunks * 200);
            double percent = Math.min(100.0, 100.0 * wanted / estimate);
            List<List<String>> bounds = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql.sampleBounds())) {
                ps.setDouble(1, percent);
                ps.setLong(2, Math.max(1, (long) (estimate * percent / 100.0 / chunks)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        bounds.add(keyOf(rs, sql.key.size()));
                    }
                }
            }
            log.accept(String.format("%s: about %,d rows, %d chunks (bounds from a %.2f%% block sample)", sql.table, estimate,
                    bounds.size() + 1, percent));
            return bounds;
        }
    }

    private ChunkVerdict chunk(TableSql sql, int index, KeyRange range, AtomicInteger keyBudget) throws Exception {
        Sum[] sums = sums(sql, range);
        counters.chunksHashed.incrementAndGet();
        counters.rowsHashed.addAndGet(sums[0].rows());
        throttle.pace(Math.max(sums[0].rows(), sums[1].rows()));
        if (sums[0].equals(sums[1])) {
            return new ChunkVerdict(index, sums[0].rows(), sums[1].rows(), 0, 0, 0, List.of());
        }
        Found f = new Found(keyBudget);
        try {
            narrow(sql, range, sums, f, 0);
            return new ChunkVerdict(index, sums[0].rows(), sums[1].rows(), f.missing, f.extra, f.different, List.copyOf(f.keys));
        } finally {
            counters.release(f.keys.size());
        }
    }

    record Sum(long rows, String hash) {}

    /** A range's rows and hash sum on both sides, at once. */
    private Sum[] sums(TableSql sql, KeyRange range) throws Exception {
        counters.rangesHashed.incrementAndGet();
        Future<Sum> tgt = targetThreads.submit(() -> sum(target, sql, range));
        Sum src;
        try {
            src = sum(source, sql, range);
        } catch (Exception e) {
            tgt.cancel(true);
            throw e;
        }
        return new Sum[] {src, get(tgt)};
    }

    private static Sum sum(Sessions side, TableSql sql, KeyRange range) throws SQLException {
        try (Connection c = side.get(); PreparedStatement ps = c.prepareStatement(sql.rangeHash(range))) {
            TableSql.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Sum(rs.getLong(1), rs.getString(2));
            }
        }
    }

    /** The differences of one chunk, counted all and kept up to the table's key budget. */
    final class Found {
        final AtomicInteger budget;
        final List<Difference> keys = new ArrayList<>();
        long missing;
        long extra;
        long different;

        Found(AtomicInteger budget) {
            this.budget = budget;
        }

        void add(Kind kind, List<String> key, String detail, long count) {
            switch (kind) {
                case MISSING -> missing += count;
                case EXTRA -> extra += count;
                case DIFFERENT -> different += count;
            }
            if (budget.getAndUpdate(b -> Math.max(0, b - 1)) > 0) {
                keys.add(new Difference(kind, key, detail));
                counters.hold(1);
            }
        }
    }

    /** Splits a differing range at keys of its larger side until its parts are small, then streams those that differ. */
    private void narrow(TableSql sql, KeyRange range, Sum[] sums, Found f, int depth) throws Exception {
        long rows = Math.max(sums[0].rows(), sums[1].rows());
        if (rows <= options.leafRows() || depth >= MAX_DEPTH) {
            merge(sql, range, f);
            return;
        }
        Sessions larger = sums[0].rows() >= sums[1].rows() ? source : target;
        List<List<String>> points = new ArrayList<>();
        try (Connection c = larger.get(); PreparedStatement ps = c.prepareStatement(sql.splitPoints(range))) {
            int next = TableSql.bind(ps, 1, range);
            ps.setLong(next, (rows + options.fanout() - 1) / options.fanout());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<String> p = keyOf(rs, sql.key.size());
                    if (!p.equals(range.hi())) {
                        points.add(p);
                    }
                }
            }
        }
        counters.hold(points.size());
        try {
            List<KeyRange> parts = new ArrayList<>();
            List<String> lo = range.lo();
            for (List<String> p : points) {
                parts.add(new KeyRange(lo, p));
                lo = p;
            }
            parts.add(new KeyRange(lo, range.hi()));
            if (parts.size() == 1) {
                merge(sql, range, f);
                return;
            }
            for (KeyRange part : parts) {
                Sum[] s = sums(sql, part);
                if (!s[0].equals(s[1])) {
                    narrow(sql, part, s, f, depth + 1);
                }
            }
        } finally {
            counters.release(points.size());
        }
    }

    /**
     * Streams a range's keys and row hashes from both sides in the same order (cursors of {@code fetchSize} rows)
     * and merges them: only the two current rows and the cursors' buffers are held.
     */
    private void merge(TableSql sql, KeyRange range, Found f) throws SQLException {
        int n = sql.key.size();
        try (Connection a = source.get(); Connection b = target.get()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            try (PreparedStatement pa = a.prepareStatement(sql.rangeRows(range));
                    PreparedStatement pb = b.prepareStatement(sql.rangeRows(range))) {
                pa.setFetchSize(options.fetchSize());
                pb.setFetchSize(options.fetchSize());
                TableSql.bind(pa, 1, range);
                TableSql.bind(pb, 1, range);
                counters.hold(2L * options.fetchSize());
                try (ResultSet ra = pa.executeQuery(); ResultSet rb = pb.executeQuery()) {
                    Row x = Row.next(ra, n);
                    Row y = Row.next(rb, n);
                    long streamed = 0;
                    while (x != null || y != null) {
                        int c = x == null ? 1 : y == null ? -1 : KeyRange.compareKeys(x.key, y.key);
                        if (c < 0) {
                            f.add(Kind.MISSING, x.key, null, 1);
                            x = Row.next(ra, n);
                            streamed++;
                        } else if (c > 0) {
                            f.add(Kind.EXTRA, y.key, null, 1);
                            y = Row.next(rb, n);
                            streamed++;
                        } else {
                            if (!x.hash.equals(y.hash)) {
                                f.add(Kind.DIFFERENT, x.key, null, 1);
                            }
                            x = Row.next(ra, n);
                            y = Row.next(rb, n);
                            streamed += 2;
                        }
                    }
                    counters.rowsStreamed.addAndGet(streamed);
                } finally {
                    counters.release(2L * options.fetchSize());
                }
            } finally {
                a.rollback();
                b.rollback();
            }
        }
    }

    private record Row(List<String> key, String hash) {
        static Row next(ResultSet rs, int keyCols) throws SQLException {
            return rs.next() ? new Row(keyOf(rs, keyCols), rs.getString(keyCols + 1)) : null;
        }
    }

    static List<String> keyOf(ResultSet rs, int keyCols) throws SQLException {
        List<String> k = new ArrayList<>(keyCols);
        for (int i = 1; i <= keyCols; i++) {
            k.add(rs.getString(i));
        }
        return k;
    }

    void awaitCatchUp() throws SQLException, InterruptedException {
        try {
            catchUp.await();
        } catch (SQLException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("waiting for the target to catch up: " + e, e);
        }
    }

    record Recheck(List<Difference> keys, long missing, long extra, long different) {}

    /**
     * Live mode: the kept differences read again, the source first, then the target once it caught up with that read;
     * up to {@code recheckRounds} times. A row equal on both sides is dropped; the others are classified anew. The
     * differences beyond the kept ones were never seen by key and count as they were found.
     */
    private Recheck recheck(TableSql sql, List<Difference> found, long missing, long extra, long different)
            throws SQLException, InterruptedException {
        long[] unseen = {missing, extra, different};
        for (Difference d : found) {
            unseen[d.kind().ordinal()]--;
        }
        List<List<String>> keys = found.stream().map(Difference::key).toList();
        List<Difference> still = found;
        for (int round = 0; round < options.recheckRounds() && !keys.isEmpty(); round++) {
            log.accept(sql.table + ": re-checking " + keys.size() + " rows that differed, after the target catches up");
            Map<List<String>, String> s = rowsAt(source, sql, keys);
            awaitCatchUp();
            Map<List<String>, String> g = rowsAt(target, sql, keys);
            still = new ArrayList<>();
            for (List<String> k : keys) {
                String a = s.get(k);
                String b = g.get(k);
                if (!Objects.equals(a, b)) {
                    still.add(new Difference(a == null ? Kind.EXTRA : b == null ? Kind.MISSING : Kind.DIFFERENT, k, null));
                }
            }
            keys = still.stream().map(Difference::key).toList();
        }
        long[] counts = unseen.clone();
        for (Difference d : still) {
            counts[d.kind().ordinal()]++;
        }
        return new Recheck(still, counts[0], counts[1], counts[2]);
    }

    /** key -> row hash of the rows found at these keys (at most {@code maxKeys}: held in memory). */
    private Map<List<String>, String> rowsAt(Sessions side, TableSql sql, List<List<String>> keys) throws SQLException {
        Map<List<String>, String> out = new HashMap<>();
        try (Connection c = side.get(); PreparedStatement ps = c.prepareStatement(sql.rowsAtKeys())) {
            for (int col = 0; col < sql.key.size(); col++) {
                Object[] values = new Object[keys.size()];
                for (int r = 0; r < keys.size(); r++) {
                    values[r] = keys.get(r).get(col);
                }
                ps.setArray(col + 1, c.createArrayOf("text", values));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(keyOf(rs, sql.key.size()), rs.getString(sql.key.size() + 1));
                }
            }
        }
        return out;
    }

    /** Runs the tasks on the executor; the first failure cancels the rest and is thrown as it was. */
    static <T> List<T> all(ExecutorService pool, List<Callable<T>> tasks) throws SQLException, InterruptedException {
        List<Future<T>> futures = new ArrayList<>();
        for (Callable<T> t : tasks) {
            futures.add(pool.submit(t));
        }
        List<T> out = new ArrayList<>();
        try {
            for (Future<T> f : futures) {
                out.add(get(f));
            }
        } finally {
            futures.forEach(f -> f.cancel(true));
        }
        return out;
    }

    static <T> T get(Future<T> f) throws SQLException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof SQLException s) {
                throw s;
            }
            if (c instanceof InterruptedException i) {
                throw i;
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(c);
        }
    }

    ExecutorService targetThreads() {
        return targetThreads;
    }

    static double seconds(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e6) / 1000.0;
    }

    @Override
    public void close() {
        chunkThreads.shutdownNow();
        targetThreads.shutdownNow();
        source.close();
        target.close();
    }
}
