package io.dbmigrate.activities.validation;

import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.activities.validation.Difference.Kind;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
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
import java.util.stream.IntStream;

/**
 * Compares tables of two databases without holding either in memory.
 *
 * <p>Keyed tables are cut into primary-key ranges ("chunks", bounds sampled from the source, see {@link #plan}); each
 * chunk's row count and order-free hash ({@code sum} of each row's 64-bit hash) is computed inside PostgreSQL on both
 * sides at once, each side read once in block ranges (or by key ranges where its rows follow the key), in parallel
 * over a bounded pool of sessions per side. A chunk that differs is narrowed: split into sub-ranges at keys read from
 * its index, the sub-ranges hashed again, down to ranges of at most {@code leafRows} rows; those are sieved (summed
 * per bucket of the key's hash on each side) and the differing buckets' keys and row hashes streamed from both sides
 * in the same order through cursors and merged in the JVM: missing on the target, extra on the target, or different
 * values. Keyless tables are compared as multisets (see {@link Keyless}).
 *
 * <p>Frozen mode (no {@link CatchUp}): a difference is final. Live mode: the differing rows are read again on the
 * source, then on the target once {@link CatchUp#await} says it applied what the source held at that read, and only
 * what still differs counts. Progress goes to a {@link Progress} as chunks finish, and a run resumes from it.
 */
public final class ValidationEngine implements AutoCloseable {

    /**
     * @param chunkRows rows per chunk (aimed at; the sample decides)
     * @param parallel sessions per side for a table's pass (3 by default: as many processes as PostgreSQL's default
     *     parallel plan of a whole-table read, a leader and two workers), and as many again for the narrowing of the
     *     table before it, which runs beside
     * @param maxRowsPerSec a limit on rows read per second per side (0: none), for a busy source
     * @param maxKeys differences kept per table for the report (all are counted)
     * @param leafRows a differing range of at most this many rows is streamed; larger ones are split first
     * @param fanout sub-ranges per split
     * @param fetchSize rows per cursor fetch while streaming
     * @param recheckRounds live mode: re-checks of the rows that differ
     * @param sliceBlocks blocks per block range of a side's pass (the unit of parallel work and of resumption)
     */
    public record Options(int chunkRows, int parallel, long maxRowsPerSec, int maxKeys, int leafRows, int fanout,
            int fetchSize, int recheckRounds, int sliceBlocks) {
        public static Options defaults() {
            return new Options(2_000, 3, 0, 1000, 5_000, 8, 1000, 3, 16_384);
        }

        public Options withSliceBlocks(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, maxKeys, leafRows, fanout, fetchSize, recheckRounds, n);
        }

        public Options withChunkRows(int n) {
            return new Options(n, parallel, maxRowsPerSec, maxKeys, leafRows, fanout, fetchSize, recheckRounds, sliceBlocks);
        }

        public Options withParallel(int n) {
            return new Options(chunkRows, n, maxRowsPerSec, maxKeys, leafRows, fanout, fetchSize, recheckRounds, sliceBlocks);
        }

        public Options withMaxRowsPerSec(long n) {
            return new Options(chunkRows, parallel, n, maxKeys, leafRows, fanout, fetchSize, recheckRounds, sliceBlocks);
        }

        public Options withMaxKeys(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, n, leafRows, fanout, fetchSize, recheckRounds, sliceBlocks);
        }

        public Options withLeafRows(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, maxKeys, n, fanout, fetchSize, recheckRounds, sliceBlocks);
        }

        public Options withFetchSize(int n) {
            return new Options(chunkRows, parallel, maxRowsPerSec, maxKeys, leafRows, fanout, n, recheckRounds, sliceBlocks);
        }

        public Options {
            if (chunkRows < 1 || parallel < 1 || maxRowsPerSec < 0 || maxKeys < 0 || leafRows < 1 || fanout < 2 || fetchSize < 1
                    || recheckRounds < 1 || sliceBlocks < 1) {
                throw new IllegalArgumentException("validation options out of range: " + this);
            }
        }
    }

    /**
     * Live mode: returns once the target has applied everything the source had committed when it was called. May be
     * called from two threads at once (a table's narrowing runs beside the next table's pass).
     */
    public interface CatchUp {
        void await() throws Exception;
    }

    private static final int MAX_DEPTH = 40;

    final Sessions source;
    final Sessions target;
    final Options options;
    final Progress progress;
    private final CatchUp catchUp;
    private final Consumer<String> log;
    private volatile Runnable beat = () -> {};
    private final ExecutorService targetThreads;
    private final ExecutorService narrowThreads;
    private final Throttle throttle;
    final Counters counters = new Counters();

    /** {@code catchUp} null: frozen mode, a difference is final. */
    public ValidationEngine(Endpoint source, Endpoint target, Options options, Progress progress, CatchUp catchUp,
            Consumer<String> log) {
        this.options = options;
        this.progress = progress;
        this.catchUp = catchUp;
        this.log = log;
        // a table's pass and the table before it's narrowing each take up to `parallel` sessions a side (run())
        this.source = new Sessions(source, "source", 2 * options.parallel());
        try {
            this.target = new Sessions(target, "target", 2 * options.parallel());
        } catch (RuntimeException e) {
            this.source.close();
            throw e;
        }
        // the pass's target side holds one; each narrowing thread may wait on one for its target half
        this.targetThreads = Executors.newFixedThreadPool(options.parallel() + 1, Parallel.daemon("dbmigrate-validate-target"));
        this.narrowThreads = Executors.newSingleThreadExecutor(Parallel.daemon("dbmigrate-validate-narrow"));
        this.throttle = new Throttle(options.maxRowsPerSec());
    }

    public Counters counters() {
        return counters;
    }

    /**
     * Every table in turn; a table that cannot be compared is reported with its error and the others go on. A table's
     * narrowing runs beside the next table's pass (one narrowing at a time, on sessions of its own): it is short
     * statements, round trips and the JVM's merge, which would leave the cores idle, and the pass fills them.
     */
    public ValidationReport run(List<TableRef> tables) throws InterruptedException {
        long t0 = System.nanoTime();
        TableReport[] out = new TableReport[tables.size()];
        Future<TableReport> narrowing = null;
        int narrowed = -1;
        try {
            for (int i = 0; i < tables.size(); i++) {
                TableRef t = tables.get(i);
                Callable<TableReport> rest;
                try {
                    rest = start(t);
                } catch (SQLException e) {
                    out[i] = failed(t, e);
                    continue;
                }
                if (narrowing != null) {
                    out[narrowed] = finish(tables.get(narrowed), narrowing);
                }
                narrowing = narrowThreads.submit(rest);
                narrowed = i;
            }
            if (narrowing != null) {
                out[narrowed] = finish(tables.get(narrowed), narrowing);
                narrowing = null;
            }
        } finally {
            if (narrowing != null) {
                narrowing.cancel(true);
            }
        }
        return ValidationReport.of(source.endpoint.describe(), target.endpoint.describe(), seconds(t0), List.of(out));
    }

    private TableReport failed(TableRef t, SQLException e) {
        log.accept(t + ": " + e.getMessage());
        return TableReport.failed(t.toString(), 0, e.getMessage());
    }

    /** A table's narrowing, waited for; its SQL error is the table's, anything else the run's. */
    private TableReport finish(TableRef t, Future<TableReport> narrowing) throws InterruptedException {
        try {
            return beating(narrowing);
        } catch (SQLException e) {
            return failed(t, e);
        }
    }

    /** Waits for a narrowing with the heartbeat going (the narrowing's own threads do not beat). */
    private TableReport beating(Future<TableReport> narrowing) throws SQLException, InterruptedException {
        try {
            while (true) {
                try {
                    return get(narrowing, 1);
                } catch (java.util.concurrent.TimeoutException e) {
                    beat.run();
                }
            }
        } finally {
            narrowing.cancel(true);
        }
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
        return beating(narrowThreads.submit(start(t)));
    }

    /** A table's plan and pass (a keyless table's whole comparison); what is left, the narrowing and the report, to call. */
    private Callable<TableReport> start(TableRef t) throws SQLException, InterruptedException {
        String name = t.toString();
        java.util.Optional<TableReport> done = progress.report(name);
        if (done.isPresent()) {
            log.accept(name + ": finished by an earlier attempt");
            return done::get;
        }
        long t0 = System.nanoTime();
        TableSql sql;
        try (Connection s = source.get(); Connection g = target.get()) {
            sql = TableSql.load(s, g, t);
        }
        Callable<TableReport> rest;
        if (sql.keyless()) {
            TableReport r = new Keyless(this, sql, catchUp, log).compare(t0);
            rest = () -> r;
        } else {
            rest = keyed(sql, t0);
        }
        return () -> {
            TableReport r = rest.call();
            progress.reported(r);
            log.accept(String.format("%s: %s, %,d rows, %d chunks, %.1f s", name, r.equal() ? "equal"
                    : "DIFFERS (" + r.missing() + " missing, " + r.extra() + " extra, " + r.different() + " different)",
                    r.sourceRows(), r.chunks(), r.seconds()));
            return r;
        };
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

    /** Plan and pass; the rest (narrowing the differing chunks, the report) is returned to call. */
    private Callable<TableReport> keyed(TableSql sql, long t0) throws SQLException, InterruptedException {
        String name = sql.table.toString();
        List<List<String>> bounds = progress.bounds(name).orElse(null);
        if (bounds != null && bounds.stream().anyMatch(b -> b.size() != sql.key.size())) {
            throw otherPlan(name, "keyless or otherwise keyed");
        }
        if (bounds == null) {
            bounds = plan(sql);
            progress.planned(name, bounds);
        }
        List<KeyRange> chunks = KeyRange.between(bounds);
        double planSeconds = seconds(t0);
        long p0 = System.nanoTime();
        Progress.Pass[] passes = pass(sql, bounds);
        double passSeconds = seconds(p0);
        List<Integer> differing = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            if (!passes[0].sums().getOrDefault(i, Sum.ZERO).equals(passes[1].sums().getOrDefault(i, Sum.ZERO))) {
                differing.add(i);
            }
        }
        long srcRows = passes[0].sums().values().stream().mapToLong(Sum::rows).sum();
        long tgtRows = passes[1].sums().values().stream().mapToLong(Sum::rows).sum();
        if (!differing.isEmpty()) {
            log.accept(String.format("%s: %d of %d chunks differ (plan %.2f s, pass %.2f s); narrowing them to their rows", name,
                    differing.size(), chunks.size(), planSeconds, passSeconds));
        }
        return () -> narrowAll(sql, t0, chunks, passes, differing, srcRows, tgtRows);
    }

    private TableReport narrowAll(TableSql sql, long t0, List<KeyRange> chunks, Progress.Pass[] passes, List<Integer> differing,
            long srcRows, long tgtRows) throws SQLException, InterruptedException {
        String name = sql.table.toString();
        Map<Integer, ChunkVerdict> finished = new HashMap<>(progress.finished(name));
        int kept = finished.values().stream().mapToInt(v -> v.differences().size()).sum();
        AtomicInteger keyBudget = new AtomicInteger(Math.max(0, options.maxKeys() - kept));
        // a chunk small enough to stream whole is streamed with a few others (one statement per side for several ranges:
        // a BitmapOr of index ranges), up to two leaves' rows a batch so that batches still run in parallel; a larger
        // chunk is split first
        List<Callable<List<ChunkVerdict>>> work = new ArrayList<>();
        List<Integer> batch = new ArrayList<>();
        long batchRows = 0;
        for (int i : differing) {
            if (finished.containsKey(i)) {
                continue;
            }
            Sum[] sums = {passes[0].sums().getOrDefault(i, Sum.ZERO), passes[1].sums().getOrDefault(i, Sum.ZERO)};
            long rows = Math.max(sums[0].rows(), sums[1].rows());
            if (rows > options.leafRows()) {
                work.add(() -> narrowed(sql, List.of(i), chunks, passes, keyBudget, f -> narrow(sql, chunks.get(i), sums, f, 0)));
                continue;
            }
            if (!batch.isEmpty() && batchRows + rows > 2L * options.leafRows()) {
                List<Integer> full = List.copyOf(batch);
                long fullRows = batchRows;
                work.add(() -> narrowed(sql, full, chunks, passes, keyBudget,
                        f -> merge(sql, full.stream().map(chunks::get).toList(), fullRows, f)));
                batch.clear();
                batchRows = 0;
            }
            batch.add(i);
            batchRows += rows;
        }
        if (!batch.isEmpty()) {
            List<Integer> last = List.copyOf(batch);
            long lastRows = batchRows;
            work.add(() -> narrowed(sql, last, chunks, passes, keyBudget,
                    f -> merge(sql, last.stream().map(chunks::get).toList(), lastRows, f)));
        }
        for (List<ChunkVerdict> vs : all(work, () -> {})) {
            for (ChunkVerdict v : vs) {
                finished.put(v.index(), v);
            }
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
        // chunks whose rows or sums differed in the pass (a batch's differences are kept on its first chunk)
        int differingChunks = differing.size();
        if (catchUp != null && missing + extra + different > 0) {
            Recheck r = recheck(sql, keys, missing, extra, different);
            keys = r.keys();
            missing = r.missing();
            extra = r.extra();
            different = r.different();
        }
        long all = missing + extra + different;
        return new TableReport(name, false, srcRows, tgtRows, chunks.size(), differingChunks, missing, extra, different,
                List.copyOf(keys), all > keys.size(), seconds(t0), null, null);
    }

    /**
     * Chunks: a single fixed-width key column has at most this many bounds (one array parameter, searched in C);
     * other keys at most {@link #MAX_TREE_BOUNDS} (one parameter per bound and column, in a CASE tree of their own).
     * More rows make larger chunks: the JVM holds the bounds and two sums per chunk, whatever the table's size.
     */
    static final int MAX_BOUNDS = 65_535;
    static final int MAX_TREE_BOUNDS = 4_095;

    /**
     * Chunk bounds from a block sample of the source, not from the whole key order. Walking the primary key index
     * ({@code WHERE key > last ORDER BY key OFFSET chunkRows LIMIT 1} per bound) reads every index entry, and every
     * heap page the visibility map does not vouch for; {@code TABLESAMPLE SYSTEM} reads a few percent of the heap's
     * blocks, a cost that follows the sample's size, not the table's. The chunks come out uneven (block sampling
     * clusters), which costs little: chunks only bound how much a difference's narrowing reads.
     */
    List<List<String>> plan(TableSql sql) throws SQLException {
        try (Connection c = source.get()) {
            long estimate = estimate(c, sql);
            long chunks = Math.min((estimate + options.chunkRows() - 1) / options.chunkRows(),
                    1L + (sql.oneFixedWidthKey ? MAX_BOUNDS : MAX_TREE_BOUNDS));
            if (chunks <= 1) {
                return List.of();
            }
            // about 50 sampled rows per chunk
            long wanted = Math.max(10_000, chunks * 50);
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
            int max = sql.oneFixedWidthKey ? MAX_BOUNDS : MAX_TREE_BOUNDS;
            if (bounds.size() > max) {
                List<List<String>> thin = new ArrayList<>();
                for (int i = 0; i < max; i++) {
                    thin.add(bounds.get((int) ((long) i * bounds.size() / max)));
                }
                bounds = thin;
            }
            log.accept(String.format("%s: about %,d rows, %d chunks (bounds from a %.2f%% block sample)", sql.table, estimate,
                    bounds.size() + 1, percent));
            return bounds;
        }
    }

    /** The table's rows as the source's planner statistics estimate them (never a scan). */
    static long estimate(Connection c, TableSql sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql.estimate())) {
            ps.setString(1, Sql.table(sql.table));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Both sides' per-chunk sums, each side read once in physical order: its heap cut into block ranges (TID range
     * scans), each range's rows summed per chunk ({@link TableSql#chunkSums}) and the ranges' sums added up. A chunk
     * read by its key range would be an index scan, and where keys and the physical order do not go together (a uuid
     * key, a composite key led by a tenant) every chunk would visit most of the heap's pages again; a block range
     * reads each page once, whatever the keys. Where a side's rows do follow the key ({@link #followsKey}), its chunks
     * are read by their key ranges instead, runs of them at a time ({@link #keyRangeSums}): no lookup and no grouping
     * per row. The ranges of both sides run in parallel ({@code parallel} sessions per side), and each finished one
     * is reported to the {@link Progress}, so a resumed pass reads only the rest, the same way.
     */
    private Progress.Pass[] pass(TableSql sql, List<List<String>> bounds) throws SQLException, InterruptedException {
        TableSql.ChunkSums stmt = sql.chunkSums(bounds.size(), true);
        TableSql.ChunkSums whole = sql.chunkSums(bounds.size(), false);
        RangeSums byBlocks = (side, sliced, from, to) -> chunkSums(side, sliced ? stmt : whole, bounds, sliced, from, to);
        List<KeyRange> chunks = KeyRange.between(bounds);
        return pass(sql, onSource -> followsKey(sql, onSource, bounds)
                ? new Progress.Pass(chunkRuns(chunks.size()), java.util.Set.of(), Map.of(), true)
                : blockRanges(sql, onSource), (onSource, pass) -> pass.keyRanges()
                ? (side, sliced, from, to) -> keyRangeSums(side, sql, onSource, chunks, (int) from, to == null ? chunks.size() : (int) (long) to)
                : byBlocks);
    }

    /** A table whose recorded progress is from another shape of it (its key changed between attempts). */
    static SQLException otherPlan(String table, String recorded) {
        return new SQLException(table + ": the progress recorded by an earlier attempt is from a " + recorded
                + " plan of this table, whose primary key has changed since; start the validation again (a new run)", "55000");
    }

    /** How one range [from, to) of a side is summed (to null: the last): rows and hash sums per chunk (or hash bucket). */
    interface RangeSums {
        Map<Integer, Sum> read(Sessions side, boolean sliced, long from, Long to) throws SQLException;
    }

    /** A new pass of a side, nothing done yet: its ranges, and their kind. */
    interface Ranges {
        Progress.Pass of(boolean onSource) throws SQLException;
    }

    /** How a side's ranges are summed, by the kind of its pass. */
    interface Reader {
        RangeSums of(boolean onSource, Progress.Pass pass);
    }

    /** Both sides' ranges, each side resuming from its recorded pass. */
    Progress.Pass[] pass(TableSql sql, Ranges ranges, Reader reader) throws SQLException, InterruptedException {
        String name = sql.table.toString();
        Progress.Pass[] passes = new Progress.Pass[2];
        for (int side = 0; side < 2; side++) {
            boolean onSource = side == 0;
            Progress.Pass recorded = progress.pass(name, onSource).orElse(null);
            passes[side] = recorded != null ? recorded : ranges.of(onSource);
            if (recorded == null) {
                // recorded before any range is read: a resumed attempt keeps these ranges, however far this one gets
                progress.passed(name, onSource, passes[side]);
            }
        }
        int finishedBefore = passes[0].done().size() + passes[1].done().size();
        if (finishedBefore > 0) {
            log.accept(name + ": resuming, " + finishedBefore + " ranges read earlier");
        }
        if (passes[0].keyRanges() || passes[1].keyRanges()) {
            log.accept(name + ": " + (passes[0].keyRanges() ? "source" : "target") + (passes[0].keyRanges() && passes[1].keyRanges()
                    ? " and target" : "") + " read by key ranges (rows in key order there)");
        }
        // each side's ranges on as many threads as it has sessions: a thread never waits for a session
        Future<Progress.Pass> other = targetThreads.submit(() -> read(false, passes[1], reader.of(false, passes[1]),
                p -> progress.passed(name, false, p), () -> {}));
        try {
            passes[0] = read(true, passes[0], reader.of(true, passes[0]), p -> progress.passed(name, true, p), beat);
        } catch (SQLException | InterruptedException | RuntimeException e) {
            other.cancel(true);
            throw e;
        }
        passes[1] = get(other);
        return passes;
    }

    /** Both sides' block ranges summed by {@code how} (a keyless table's pass). */
    Progress.Pass[] pass(TableSql sql, RangeSums how) throws SQLException, InterruptedException {
        return pass(sql, onSource -> blockRanges(sql, onSource), (onSource, pass) -> how);
    }

    /**
     * Leading key column correlation with the physical order at least this (either way): the side's chunks are read
     * by their key ranges, bitmap scans over runs of pages, instead of every row's chunk being looked up among the
     * bounds and grouped (measured over 800,000 rows in key order: 5% over a plain whole-table sum instead of 15%).
     */
    static final double KEY_ORDER_CORRELATION = 0.9;

    /**
     * This side's rows follow the key (planner statistics: every key column, so that a key led by a day and ended by a
     * uuid, whose chunks within a day lie all over that day's pages, is not taken for one), and its primary-key index
     * serves the byte order.
     */
    private boolean followsKey(TableSql sql, boolean onSource, List<List<String>> bounds) throws SQLException {
        if (bounds.isEmpty() || (onSource ? sql.partitionedSource : sql.partitionedTarget) || !sql.indexServes(onSource)) {
            return false;
        }
        try (Connection c = (onSource ? source : target).get(); PreparedStatement ps = c.prepareStatement(TableSql.keyCorrelation())) {
            for (String column : sql.key) {
                ps.setString(1, sql.table.schema());
                ps.setString(2, sql.table.name());
                ps.setString(3, column);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getObject(1) == null || Math.abs(rs.getDouble(1)) < KEY_ORDER_CORRELATION) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /**
     * Runs of chunks, each a unit of a side's pass by key: the first and the last chunk (open-ended) alone, the others
     * in runs of up to 64 (about 128,000 rows at the default chunk size), at least four runs per session.
     */
    List<Long> chunkRuns(int chunks) {
        int middle = chunks - 2;
        int run = Math.max(1, Math.min(64, (middle + 4 * options.parallel() - 1) / (4 * options.parallel())));
        List<Long> starts = new ArrayList<>();
        starts.add(0L);
        for (int i = 1; i < chunks - 1; i += run) {
            starts.add((long) i);
        }
        starts.add((long) chunks - 1);
        return starts;
    }

    /**
     * The plan of a read by key ranges, set for its transaction: bitmap scans (an index scan visits the heap a row at a
     * time), never a sequential scan (a row comparison, a composite key's range, is estimated at a third of the table
     * whatever its bounds: the planner would otherwise read the whole table for each chunk).
     */
    static final List<String> KEY_RANGE_PLAN = List.of("SET LOCAL enable_indexscan = off", "SET LOCAL enable_seqscan = off");

    /**
     * Rows and hash sums of chunks [from, to), each read by its key range: the first or last chunk (open-ended) by
     * itself, the others by one statement, in {@link #KEY_RANGE_PLAN} (bitmap scans; an index scan measured 740
     * against 722 ms over 800,000 rows).
     */
    private static Map<Integer, Sum> keyRangeSums(Sessions side, TableSql sql, boolean onSource, List<KeyRange> chunks, int from, int to)
            throws SQLException {
        Map<Integer, Sum> out = new HashMap<>();
        try (Connection c = side.get()) {
            c.setAutoCommit(false);
            try {
                try (java.sql.Statement st = c.createStatement()) {
                    for (String set : KEY_RANGE_PLAN) {
                        st.execute(set);
                    }
                }
                if (from == 0 || to == chunks.size()) {
                    if (to - from != 1) {
                        throw new IllegalStateException("an open-ended chunk is read by itself: " + from + ".." + to);
                    }
                    out.put(from, sum(c, sql, chunks.get(from), onSource));
                    return out;
                }
                try (PreparedStatement ps = c.prepareStatement(sql.keyRangeSums(onSource))) {
                    int n = sql.key.size();
                    ps.setArray(1, c.createArrayOf("int4", IntStream.range(from, to).boxed().toArray()));
                    for (int k = 0; k < n; k++) {
                        int col = k;
                        ps.setArray(2 + 2 * k, c.createArrayOf("text", chunks.subList(from, to).stream().map(r -> r.lo().get(col)).toArray()));
                        ps.setArray(3 + 2 * k, c.createArrayOf("text", chunks.subList(from, to).stream().map(r -> r.hi().get(col)).toArray()));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.put(rs.getInt(1), new Sum(rs.getLong(2), rs.getString(3)));
                        }
                    }
                }
                return out;
            } finally {
                c.rollback();
            }
        }
    }

    /** One side's block ranges read afresh, nothing recorded (a live re-check of a whole table). */
    Map<Integer, Sum> read(TableSql sql, boolean onSource, RangeSums how) throws SQLException, InterruptedException {
        return read(onSource, blockRanges(sql, onSource), how, p -> {}, beat).sums();
    }

    /**
     * The ranges of one side that {@code start} has not done yet, on {@code parallel} sessions; each finished one is
     * added to the pass and handed to {@code passed}. Returns the whole pass.
     */
    private Progress.Pass read(boolean onSource, Progress.Pass start, RangeSums how,
            java.util.function.Consumer<Progress.Pass> passed, Runnable heartbeat) throws SQLException, InterruptedException {
        Sessions side = onSource ? source : target;
        Progress.Pass[] now = {start};
        Object lock = new Object();
        List<Long> starts = start.sliceStarts();
        boolean sliced = starts.size() > 1;
        List<Callable<Void>> work = new ArrayList<>();
        for (int slice = 0; slice < starts.size(); slice++) {
            if (start.done().contains(slice)) {
                continue;
            }
            int index = slice;
            work.add(() -> {
                Map<Integer, Sum> part = how.read(side, sliced, starts.get(index), index + 1 < starts.size() ? starts.get(index + 1) : null);
                long rows = part.values().stream().mapToLong(Sum::rows).sum();
                counters.slicesScanned.incrementAndGet();
                if (onSource) {
                    counters.rowsHashed.addAndGet(rows);
                }
                Progress.Pass next;
                synchronized (lock) {
                    Map<Integer, Sum> sums = new HashMap<>(now[0].sums());
                    part.forEach((c, v) -> sums.merge(c, v, Sum::plus));
                    java.util.Set<Integer> done = new java.util.HashSet<>(now[0].done());
                    done.add(index);
                    next = now[0].with(java.util.Set.copyOf(done), Map.copyOf(sums));
                    now[0] = next;
                    // recorded in order: a later range's pass never overwrites an earlier one's that holds more
                    passed.accept(next);
                }
                throttle.pace(rows);
                return null;
            });
        }
        all(work, heartbeat);
        return now[0];
    }

    /** A side's pass in block ranges, none read yet. */
    private Progress.Pass blockRanges(TableSql sql, boolean onSource) throws SQLException {
        return new Progress.Pass(slices(sql, onSource), java.util.Set.of(), Map.of());
    }

    /**
     * Where each block range starts: one range per {@code sliceBlocks} blocks, at least one per session on a table of
     * some size; a single range (no TID predicate) for a partitioned table (its partitions number their blocks each on
     * their own) and before PostgreSQL 14 (no TID range scan: every range would read the whole table).
     */
    private List<Long> slices(TableSql sql, boolean onSource) throws SQLException {
        if (onSource ? sql.partitionedSource : sql.partitionedTarget) {
            return List.of(0L);
        }
        try (Connection c = (onSource ? source : target).get(); PreparedStatement ps = c.prepareStatement(sql.blocks())) {
            ps.setString(1, Sql.table(sql.table));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long blocks = rs.getLong(1);
                if (rs.getInt(2) < 140000) {
                    return List.of(0L);
                }
                // at least one range per session on a table of some size: the sessions are the pass's parallelism
                long n = Math.max((blocks + options.sliceBlocks() - 1) / options.sliceBlocks(), blocks >= 128 ? options.parallel() : 1);
                List<Long> starts = new ArrayList<>();
                for (long i = 0; i < n; i++) {
                    starts.add(blocks * i / n);
                }
                return starts;
            }
        }
    }

    /** Rows and hash sums per chunk of one block range [from, to) (to null: to the end, rows added meanwhile included). */
    private static Map<Integer, Sum> chunkSums(Sessions side, TableSql.ChunkSums stmt, List<List<String>> bounds, boolean sliced,
            long from, Long to) throws SQLException {
        Map<Integer, Sum> out = new HashMap<>();
        try (Connection c = side.get(); PreparedStatement ps = c.prepareStatement(stmt.sql())) {
            int next = 1;
            if (!bounds.isEmpty()) {
                if (stmt.boundOrder() == null) {
                    ps.setArray(next++, c.createArrayOf("text", bounds.stream().map(b -> b.get(0)).toArray()));
                } else {
                    for (int b : stmt.boundOrder()) {
                        for (String v : bounds.get(b)) {
                            ps.setObject(next++, v, Types.OTHER);
                        }
                    }
                }
            }
            if (sliced) {
                bindBlocks(ps, next, from, to);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getInt(1), new Sum(rs.getLong(2), rs.getString(3)));
                }
            }
        }
        return out;
    }

    /** Binds a block range [from, to) (to null: to the end) as two tids from parameter {@code first}. */
    static void bindBlocks(PreparedStatement ps, int first, long from, Long to) throws SQLException {
        ps.setString(first, "(" + from + ",0)");
        // the highest block number PostgreSQL can address is 2^32 - 2
        ps.setString(first + 1, "(" + (to == null ? 4294967295L : to) + ",0)");
    }

    /** A range's rows and hash sum on both sides, at once (by its key range: the narrowing of a differing chunk). */
    private Sum[] sums(TableSql sql, KeyRange range) throws Exception {
        counters.rangesHashed.incrementAndGet();
        Future<Sum> tgt = targetThreads.submit(() -> sum(target, sql, range, false));
        Sum src;
        try {
            src = sum(source, sql, range, true);
        } catch (Exception e) {
            tgt.cancel(true);
            throw e;
        }
        return new Sum[] {src, get(tgt)};
    }

    private static Sum sum(Sessions side, TableSql sql, KeyRange range, boolean onSource) throws SQLException {
        try (Connection c = side.get()) {
            return sum(c, sql, range, onSource);
        }
    }

    /** One key range's rows and hash sum, on this session. */
    private static Sum sum(Connection c, TableSql sql, KeyRange range, boolean onSource) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql.rangeHash(range, onSource))) {
            TableSql.bind(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Sum(rs.getLong(1), rs.getString(2));
            }
        }
    }

    private interface Narrowing {
        void run(Found f) throws Exception;
    }

    /**
     * Verdicts of chunks narrowed together: the first carries the differences found in all of them (a batch is
     * narrowed, and resumed, as one), each its own rows.
     */
    private List<ChunkVerdict> narrowed(TableSql sql, List<Integer> indexes, List<KeyRange> chunks, Progress.Pass[] passes,
            AtomicInteger keyBudget, Narrowing how) throws Exception {
        Found f = new Found(keyBudget);
        try {
            how.run(f);
            List<ChunkVerdict> out = new ArrayList<>();
            for (int n = 0; n < indexes.size(); n++) {
                int i = indexes.get(n);
                long s = passes[0].sums().getOrDefault(i, Sum.ZERO).rows();
                long g = passes[1].sums().getOrDefault(i, Sum.ZERO).rows();
                out.add(n == 0 ? new ChunkVerdict(i, s, g, f.missing, f.extra, f.different, List.copyOf(f.keys))
                        : new ChunkVerdict(i, s, g, 0, 0, 0, List.of()));
            }
            for (ChunkVerdict v : out) {
                progress.finished(sql.table.toString(), v);
            }
            return out;
        } finally {
            counters.release(f.keys.size());
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
            merge(sql, List.of(range), rows, f);
            return;
        }
        boolean fromSource = sums[0].rows() >= sums[1].rows();
        List<List<String>> points = new ArrayList<>();
        try (Connection c = (fromSource ? source : target).get(); PreparedStatement ps = c.prepareStatement(sql.splitPoints(range, fromSource))) {
            int next = TableSql.bind(ps, 1, range);
            ps.setLong(next, (rows + options.fanout() - 1) / options.fanout());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<String> p = keyOf(rs, sql.key.size());
                    if (!p.equals(range.lo())) {
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
                merge(sql, List.of(range), rows, f);
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

    /** Ranges of at most this many rows are streamed whole; larger ones are sieved first. */
    static final long SIEVE_ROWS = 64;
    /** Rows per bucket of the key's hash that a sieve aims at. */
    static final long ROWS_PER_BUCKET = 8;

    /**
     * Finds the differing rows of some ranges ({@code rows}: the larger side's count in the pass). Ranges of more than
     * {@link #SIEVE_ROWS} are sieved first: both sides' rows and hash sums per bucket of the key's hash (about
     * {@link #ROWS_PER_BUCKET} rows a bucket), computed in each database, and only the buckets that differ are
     * streamed. A few scattered differences then cost the ranges' rows hashed once more on each side, not every row
     * sent to the JVM, sorted and compared there.
     */
    private void merge(TableSql sql, List<KeyRange> ranges, long rows, Found f) throws Exception {
        // where a side's index cannot serve the ranges (its key collation is not byte order) each statement reads the
        // whole table there: one statement, not two
        if (rows <= SIEVE_ROWS || !sql.indexServes(true) || !sql.indexServes(false)) {
            stream(sql, ranges, null, f);
            return;
        }
        // no more buckets a side than a cursor's buffer holds rows: the sieve never holds more than the stream does
        long buckets = Math.min(Long.highestOneBit(options.fetchSize()), Long.highestOneBit(Math.max(1, rows / ROWS_PER_BUCKET)) * 2);
        long mask = buckets - 1;
        List<Long> differ;
        counters.hold(2 * buckets);
        try {
            Future<Map<Long, Sum>> tgt = targetThreads.submit(() -> buckets(target, sql, ranges, mask, false));
            Map<Long, Sum> src;
            try {
                src = buckets(source, sql, ranges, mask, true);
            } catch (Exception e) {
                tgt.cancel(true);
                throw e;
            }
            Map<Long, Sum> other = get(tgt);
            java.util.Set<Long> all = new java.util.HashSet<>(src.keySet());
            all.addAll(other.keySet());
            differ = all.stream().filter(b -> !src.getOrDefault(b, Sum.ZERO).equals(other.getOrDefault(b, Sum.ZERO))).sorted().toList();
            counters.bucketsSieved.addAndGet(all.size());
        } finally {
            counters.release(2 * buckets);
        }
        if (differ.isEmpty()) {
            return; // equal since the pass (live mode: the stream healed it)
        }
        if (differ.size() * 2L >= buckets) {
            stream(sql, ranges, null, f);
            return;
        }
        counters.hold(differ.size());
        try {
            stream(sql, ranges, new Sieve(mask, differ), f);
        } finally {
            counters.release(differ.size());
        }
    }

    /** Buckets of the key's hash to stream: {@code (hash & mask) IN buckets}. */
    private record Sieve(long mask, List<Long> buckets) {
        void bind(PreparedStatement ps, int first) throws SQLException {
            ps.setLong(first, mask);
            ps.setArray(first + 1, ps.getConnection().createArrayOf("bigint", buckets.toArray()));
        }
    }

    private static Map<Long, Sum> buckets(Sessions side, TableSql sql, List<KeyRange> ranges, long mask, boolean onSource)
            throws SQLException {
        Map<Long, Sum> out = new HashMap<>();
        try (Connection c = side.get(); PreparedStatement ps = c.prepareStatement(sql.rangeBuckets(ranges, onSource))) {
            ps.setLong(1, mask);
            int next = 2;
            for (KeyRange range : ranges) {
                next = TableSql.bind(ps, next, range);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), new Sum(rs.getLong(2), rs.getString(3)));
                }
            }
        }
        return out;
    }

    /**
     * Streams the ranges' keys and row hashes (of the sieve's buckets only, when given) from both sides in the same
     * order (cursors of {@code fetchSize} rows) and merges them: only the two current rows and the cursors' buffers
     * are held.
     */
    private void stream(TableSql sql, List<KeyRange> ranges, Sieve sieve, Found f) throws SQLException {
        int n = sql.key.size();
        try (Connection a = source.get(); Connection b = target.get()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            try (PreparedStatement pa = a.prepareStatement(sieve == null ? sql.rangeRows(ranges, true) : sql.rangeRowsIn(ranges, true));
                    PreparedStatement pb = b.prepareStatement(sieve == null ? sql.rangeRows(ranges, false) : sql.rangeRowsIn(ranges, false))) {
                pa.setFetchSize(options.fetchSize());
                pb.setFetchSize(options.fetchSize());
                int na = 1;
                int nb = 1;
                for (KeyRange range : ranges) {
                    na = TableSql.bind(pa, na, range);
                    nb = TableSql.bind(pb, nb, range);
                }
                if (sieve != null) {
                    sieve.bind(pa, na);
                    sieve.bind(pb, nb);
                }
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

    /**
     * Called every second while block ranges or chunks are read (a Temporal activity heartbeats from it; one that
     * throws stops the validation).
     */
    public ValidationEngine heartbeat(Runnable beat) {
        this.beat = beat;
        return this;
    }

    /**
     * Runs the tasks on as many threads as a side has sessions (a task uses at most one session of each side at a time,
     * and waits for the target's own thread while it holds none there); the first failure stops the rest and is
     * thrown as it was.
     */
    private <T> List<T> all(List<Callable<T>> tasks) throws SQLException, InterruptedException {
        return all(tasks, beat);
    }

    private <T> List<T> all(List<Callable<T>> tasks, Runnable heartbeat) throws SQLException, InterruptedException {
        java.util.Queue<T> out = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Parallel.Task> run = tasks.stream().<Parallel.Task>map(t -> () -> {
            T v = t.call();
            if (v != null) {
                out.add(v);
            }
        }).toList();
        Parallel.run("dbmigrate-validate", run, options.parallel(), heartbeat, () -> {});
        return new ArrayList<>(out);
    }

    static <T> T get(Future<T> f) throws SQLException, InterruptedException {
        try {
            return get(f, Long.MAX_VALUE);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    static <T> T get(Future<T> f, long seconds) throws SQLException, InterruptedException, java.util.concurrent.TimeoutException {
        try {
            return seconds == Long.MAX_VALUE ? f.get() : f.get(seconds, java.util.concurrent.TimeUnit.SECONDS);
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
        narrowThreads.shutdownNow();
        targetThreads.shutdownNow();
        source.close();
        target.close();
    }
}
