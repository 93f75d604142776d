package io.dbmigrate.activities.snapshot;

import io.dbmigrate.activities.pipeline.CaptureSetup;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.SnapshotCopyProgress;
import io.dbmigrate.workflows.model.SnapshotCopyReport;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The initial copy outside Debezium: the stream's slot is created with an exported snapshot, and parallel workers
 * copy every table (large ones by ranges of heap pages) inside that snapshot with {@code COPY ... TO STDOUT} piped
 * into {@code COPY ... FROM STDIN}: binary where both servers have the same major version and every column's type
 * is built in (binary arrays and composites carry type OIDs that differ between clusters), text otherwise. Debezium
 * then streams from the slot with {@code snapshot.mode=no_data}, so the stream starts exactly where the snapshot ends.
 *
 * <p>Restartable: each unit commits with its mark in {@link CopyState}, so a retry copies only unfinished units. The
 * exported snapshot lives only while the connection that created it stays open; when it is gone (the worker that
 * held it ended) before the copy is complete, the copy starts over from a new slot with the target's tables emptied,
 * and the report says so.
 */
public final class SnapshotCopy {
    private static final Logger log = LoggerFactory.getLogger(SnapshotCopy.class);
    /** Statement and socket timeouts of the copying sessions: one unit's COPY may take minutes on a slow target. */
    static final Duration COPY_TIMEOUT = Duration.ofHours(2);

    /** Parallel workers, and the size of a unit of a large table in pages of 8 kB, TOAST included (8192 = 64 MB). */
    public record Options(int parallelism, long unitPages) {
        public static Options defaults() {
            return new Options(4, 8192);
        }
    }

    /** The copying sessions' heartbeat: progress out, and an exception back when the attempt must stop. */
    public interface Heartbeat {
        void beat(SnapshotCopyProgress progress);
    }

    /**
     * The stream's capture, started as soon as the slot exists: Debezium reads the slot into Kafka while the copy
     * runs (the applier starts after it), so the source's WAL is not held for the whole copy and streaming is under
     * way when the copy ends. {@code forget} removes a stream that read an older slot.
     */
    public interface Capture {
        void start() throws SQLException;

        void forget() throws SQLException;
    }

    /** Capture by {@link CaptureSetup}: topic and connector ({@code snapshot.mode=no_data}) on the copy's slot. */
    public static Capture through(CaptureSetup setup, StreamSpec spec) {
        return new Capture() {
            @Override
            public void start() throws SQLException {
                setup.prepare(spec);
            }

            @Override
            public void forget() throws SQLException {
                setup.forgetStream(spec);
            }
        };
    }

    /** For a copy whose caller starts capture itself, after the copy. */
    public static final Capture CAPTURE_LATER = new Capture() {
        @Override
        public void start() {}

        @Override
        public void forget() {}
    };

    private final StreamSpec spec;
    private final Options options;
    private final CopyState state;
    private final String stateSchema;

    public SnapshotCopy(StreamSpec spec, Options options) {
        this.spec = spec;
        this.options = options;
        this.stateSchema = ChangeApplier.applySchema(spec);
        this.state = new CopyState(stateSchema);
    }

    public SnapshotCopyReport run(Heartbeat heartbeat) throws SQLException, InterruptedException {
        return run(heartbeat, CAPTURE_LATER);
    }

    public SnapshotCopyReport run(Heartbeat heartbeat, Capture capture) throws SQLException, InterruptedException {
        long started = System.nanoTime();
        ExportedSnapshot snapshot = null;
        java.util.concurrent.CompletableFuture<Void> captureStarted = null;
        String restartedBecause = null;
        List<CopyUnit> units;
        String slotLsn;
        boolean ok = false;
        try {
            try (Connection src = Pg.connect(spec.from(), "dbmigrate-copy"); Connection tgt = Pg.connect(spec.to(), "dbmigrate-copy")) {
                state.create(tgt, stateSchema);
                CopyState.Loaded loaded = state.load(tgt);
                boolean slotExists = Pg.exists(src, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", spec.slotName());
                boolean complete = !loaded.units().isEmpty() && loaded.units().stream().allMatch(CopyUnit::done);
                if (complete && slotExists) {
                    // an earlier attempt finished and its result was lost with its worker: nothing to copy again
                    ok = true;
                    return report(loaded.slotLsn(), loaded.units(), started, 0, null);
                }
                if (!loaded.units().isEmpty()) {
                    snapshot = slotExists ? ExportedSnapshot.claim(spec.slotName(), loaded.slotLsn()) : null;
                    if (snapshot == null) {
                        restartedBecause = slotExists
                                ? "the exported snapshot of slot " + spec.slotName() + " was lost before the copy ended (the"
                                        + " process that held it is gone): copying again from a new slot, target tables emptied"
                                : "slot " + spec.slotName() + " disappeared before the copy ended: copying again from a new slot,"
                                        + " target tables emptied";
                    }
                } else if (slotExists) {
                    restartedBecause = "slot " + spec.slotName() + " exists without a copy plan (an attempt ended between"
                            + " creating it and planning): copying from a new slot";
                }
                if (snapshot == null) {
                    if (restartedBecause != null) {
                        log.warn("{}: {}", spec.streamId(), restartedBecause);
                        capture.forget();
                        CaptureSetup.dropSlot(src, spec.slotName());
                        truncate(tgt);
                    }
                    snapshot = ExportedSnapshot.create(spec.from(), spec.slotName());
                    units = plan(src, tgt);
                    slotLsn = snapshot.consistentLsn();
                    tgt.setAutoCommit(false);
                    state.replace(tgt, units, slotLsn);
                    tgt.commit();
                    tgt.setAutoCommit(true);
                    // topic and connector (Connect's REST, seconds) beside the copy, not before it
                    captureStarted = java.util.concurrent.CompletableFuture.runAsync(() -> {
                        try {
                            capture.start();
                        } catch (SQLException e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    });
                } else {
                    units = loaded.units();
                    slotLsn = loaded.slotLsn();
                }
            }
            int before = (int) units.stream().filter(CopyUnit::done).count();
            SnapshotCopyProgress[] last = new SnapshotCopyProgress[1];
            List<CopyUnit> finished = copy(snapshot, slotLsn, units, p -> {
                last[0] = p;
                heartbeat.beat(p);
            });
            // Connect's REST can take a minute right after it started (a POST waits for its herder): keep beating
            awaitCapture(captureStarted, () -> {
                if (last[0] != null) {
                    heartbeat.beat(last[0]);
                }
            });
            SnapshotCopyReport r = report(slotLsn, finished, started, finished.size() - before, restartedBecause);
            ok = true;
            return r;
        } finally {
            if (snapshot != null) {
                if (ok) {
                    snapshot.close();
                } else {
                    snapshot.release();
                }
            }
        }
    }

    private static void awaitCapture(java.util.concurrent.CompletableFuture<Void> started, Runnable beat)
            throws SQLException, InterruptedException {
        if (started == null) {
            return;
        }
        try {
            while (true) {
                try {
                    started.get(1, java.util.concurrent.TimeUnit.SECONDS);
                    return;
                } catch (java.util.concurrent.TimeoutException stillStarting) {
                    beat.run(); // throws once the attempt is cancelled
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause() instanceof java.util.concurrent.CompletionException ce ? ce.getCause() : e.getCause();
            if (c instanceof SQLException s) {
                throw s;
            }
            throw c instanceof RuntimeException r ? r : new IllegalStateException(c);
        }
    }

    /** Empties the migrated tables on the target: only rows an earlier copy attempt loaded can be there. */
    private void truncate(Connection tgt) throws SQLException {
        if (spec.tables().isEmpty()) {
            return;
        }
        try (Statement st = tgt.createStatement()) {
            st.execute("TRUNCATE " + String.join(", ", spec.tables().stream().map(Sql::table).toList()));
        }
    }

    /** Leaf tables (a partitioned table's partitions), their size, and their units. */
    List<CopyUnit> plan(Connection src, Connection tgt) throws SQLException {
        int sourceMajor = major(src);
        boolean sameMajor = sourceMajor == major(tgt);
        // before PostgreSQL 14 a ctid range is a full scan: one unit per table there
        long unitPages = sourceMajor >= 14 ? options.unitPages() : Long.MAX_VALUE;
        List<CopyUnit> units = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        try (PreparedStatement ps = src.prepareStatement("""
                WITH root AS (SELECT ?::regclass::oid AS oid)
                SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint,
                       pg_relation_size(c.oid) / current_setting('block_size')::bigint,
                       pg_table_size(c.oid) / current_setting('block_size')::bigint
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r'
                   AND (c.oid = (SELECT oid FROM root)
                        OR c.oid IN (SELECT relid FROM pg_partition_tree((SELECT oid FROM root)) WHERE isleaf))
                 ORDER BY n.nspname, c.relname""")) {
            for (TableRef root : spec.tables()) {
                ps.setString(1, Sql.table(root));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        TableRef leaf = new TableRef(rs.getString(1), rs.getString(2));
                        long tuples = rs.getLong(3);
                        long heapPages = rs.getLong(4);
                        // the table's whole size, TOAST included: a table of large values has few heap pages
                        long allPages = rs.getLong(5);
                        String format = sameMajor && binaryColumns(src, leaf) ? "binary" : "text";
                        long n = Math.min(heapPages, (allPages + unitPages - 1) / unitPages);
                        if (n <= 1) {
                            units.add(new CopyUnit(leaf, 0, null, null, tuples, format, null, null));
                            sizes.add(allPages);
                            continue;
                        }
                        long step = (heapPages + n - 1) / n;
                        for (int i = 0; i < n; i++) {
                            // the last range is open: rows of the snapshot cannot be past the end it had, but the
                            // size was read outside the snapshot
                            Long end = i == n - 1 ? null : (i + 1) * step;
                            units.add(new CopyUnit(leaf, i, i * step, end, tuples / n, format, null, null));
                            sizes.add(allPages / n);
                        }
                    }
                }
            }
        }
        // largest first, so the longest unit does not start last and hold the copy's end
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < units.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Long.compare(sizes.get(b), sizes.get(a)));
        return order.stream().map(units::get).toList();
    }

    static int major(Connection c) throws SQLException {
        return Integer.parseInt(Pg.one(c, "SELECT current_setting('server_version_num')")) / 10000;
    }

    /**
     * Whether every column travels in binary between two clusters of one major version: built-in types with binary
     * I/O, enums (sent as their label), arrays of built-in types; not composites, ranges or arrays of user types
     * (their binary form names type OIDs, which differ between clusters).
     */
    static boolean binaryColumns(Connection src, TableRef t) throws SQLException {
        return !Pg.exists(src, """
                SELECT 1
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
                  LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typlen = -1
                 WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped
                   AND NOT (b.typtype = 'e'
                            OR (b.typnamespace = 'pg_catalog'::regnamespace AND b.typtype IN ('b', 'p')
                                AND b.typsend <> 0 AND b.typreceive <> 0
                                AND (e.oid IS NULL OR (e.typnamespace = 'pg_catalog'::regnamespace
                                                       AND e.typtype = 'b' AND e.typsend <> 0))))""", Sql.table(t));
    }

    /** The columns COPY moves: all but generated ones (the target computes those itself). */
    static List<String> columns(Connection src, TableRef t) throws SQLException {
        List<String> cols = new ArrayList<>();
        try (PreparedStatement ps = src.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass"
                + " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum")) {
            ps.setString(1, Sql.table(t));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cols.add(rs.getString(1));
                }
            }
        }
        return cols;
    }

    private List<CopyUnit> copy(ExportedSnapshot snapshot, String slotLsn, List<CopyUnit> units, Heartbeat heartbeat)
            throws SQLException, InterruptedException {
        List<CopyUnit> result = Collections.synchronizedList(new ArrayList<>(units));
        ConcurrentLinkedQueue<Integer> todo = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < units.size(); i++) {
            if (!units.get(i).done()) {
                todo.add(i);
            }
        }
        Progress progress = new Progress(slotLsn, units);
        List<Connection> open = Collections.synchronizedList(new ArrayList<>());
        List<Parallel.Task> workers = new ArrayList<>();
        for (int w = 0; w < Math.min(options.parallelism(), todo.size()); w++) {
            workers.add(() -> {
                try (Connection src = Pg.connect(spec.from(), "dbmigrate-copy", Pg.timeouts(COPY_TIMEOUT, COPY_TIMEOUT.plusMinutes(1)));
                     Connection tgt = Pg.connect(spec.to(), "dbmigrate-copy", Pg.timeouts(COPY_TIMEOUT, COPY_TIMEOUT.plusMinutes(1)))) {
                    open.add(src);
                    open.add(tgt);
                    prepareTarget(tgt);
                    Map<TableRef, List<String>> columns = new HashMap<>();
                    Integer i;
                    while ((i = todo.poll()) != null) {
                        CopyUnit u = units.get(i);
                        List<String> cols = columns.get(u.table());
                        if (cols == null) {
                            cols = columns(src, u.table());
                            columns.put(u.table(), cols);
                        }
                        result.set(i, copyUnit(src, tgt, snapshot, slotLsn, u, cols, progress));
                    }
                }
            });
        }
        Parallel.run("dbmigrate-copy-" + spec.migrationId(), workers, workers.size(),
                () -> heartbeat.beat(progress.snapshot()), () -> abortAll(open));
        return List.copyOf(result);
    }

    private static void abortAll(List<Connection> open) {
        synchronized (open) {
            for (Connection c : open) {
                try {
                    c.abort(Runnable::run);
                } catch (SQLException ignored) {
                    // already gone
                }
            }
        }
    }

    private static void prepareTarget(Connection tgt) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            // a unit's commit carries its mark: losing both in a target crash only means copying it again
            st.execute("SET synchronous_commit = off");
            try {
                // foreign keys and triggers are the application's rules for new writes, not for a copy of rows that
                // already satisfied them on the source (and tables are copied in parallel, children before parents)
                st.execute("SET session_replication_role = replica");
            } catch (SQLException e) {
                log.warn("cannot SET session_replication_role = replica on the target ({}): foreign keys between copied"
                        + " tables may fail the copy. Fix: GRANT SET ON PARAMETER session_replication_role", e.getMessage());
            }
        }
    }

    /** One unit: a source transaction in the exported snapshot, a target transaction with the data and its mark. */
    private CopyUnit copyUnit(Connection src, Connection tgt, ExportedSnapshot snapshot, String slotLsn, CopyUnit u,
            List<String> cols, Progress progress) throws SQLException {
        String list = Sql.idents(cols);
        String from = u.wholeTable()
                ? "COPY " + Sql.table(u.table()) + " (" + list + ") TO STDOUT"
                : "COPY (SELECT " + list + " FROM ONLY " + Sql.table(u.table()) + " WHERE " + u.pageFilter() + ") TO STDOUT";
        String with = "binary".equals(u.format()) ? " (FORMAT binary)" : "";
        long streamed = 0;
        long bytes = 0;
        src.setAutoCommit(false);
        tgt.setAutoCommit(false);
        try {
            try (Statement st = src.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SET TRANSACTION SNAPSHOT " + Sql.literal(snapshot.snapshotName()));
                // a policy that hides rows from this role must fail the copy, not thin it out
                st.execute("SET LOCAL row_security = off");
                // text output of floats exact on every version (the default is exact only from PostgreSQL 12 on)
                st.execute("SET LOCAL extra_float_digits = 3");
            } catch (SQLException e) {
                throw new SQLException("cannot read " + u.table() + " in the exported snapshot " + snapshot.snapshotName()
                        + ": " + e.getMessage(), e.getSQLState(), e);
            }
            CopyOut out = src.unwrap(PGConnection.class).getCopyAPI().copyOut(from + with);
            CopyIn in = tgt.unwrap(PGConnection.class).getCopyAPI().copyIn(
                    "COPY " + Sql.table(u.table()) + " (" + list + ") FROM STDIN" + with);
            byte[] buf;
            while ((buf = out.readFromCopy()) != null) {
                in.writeToCopy(buf, 0, buf.length);
                bytes += buf.length;
                streamed++;
                progress.add(u.table(), 1, buf.length);
            }
            long rows = in.endCopy();
            // binary COPY has a header and a trailer message besides its rows: count what the target stored
            progress.add(u.table(), rows - streamed, 0);
            streamed = rows;
            state.markDone(tgt, u, slotLsn, rows, bytes);
            tgt.commit();
            src.commit();
            progress.unitDone(u.table());
            return u.finished(rows, bytes);
        } catch (SQLException e) {
            progress.add(u.table(), -streamed, -bytes);
            rollbackQuietly(tgt);
            rollbackQuietly(src);
            throw new SQLException("copying " + u.table() + (u.wholeTable() ? "" : " pages " + u.firstPage() + "-"
                    + (u.endPage() == null ? "end" : u.endPage())) + " failed: " + e.getMessage(), e.getSQLState(), e);
        } finally {
            // the next unit's transaction must begin with its own SET TRANSACTION (and catalog reads run outside one)
            src.setAutoCommit(true);
            tgt.setAutoCommit(true);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the session is gone; so is its transaction
        }
    }

    private SnapshotCopyReport report(String slotLsn, List<CopyUnit> units, long startedNanos, int copiedNow,
            String restartedBecause) {
        Map<TableRef, long[]> perTable = new LinkedHashMap<>();
        Map<TableRef, String> formats = new LinkedHashMap<>();
        for (CopyUnit u : units) {
            long[] t = perTable.computeIfAbsent(u.table(), k -> new long[2]);
            t[0] += u.rows() == null ? 0 : u.rows();
            t[1] += u.bytes() == null ? 0 : u.bytes();
            formats.put(u.table(), u.format());
        }
        List<SnapshotCopyReport.Table> tables = new ArrayList<>();
        perTable.forEach((t, v) -> tables.add(new SnapshotCopyReport.Table(t.toString(), v[0], v[1], formats.get(t))));
        return new SnapshotCopyReport(slotLsn, tables.stream().mapToLong(SnapshotCopyReport.Table::rows).sum(),
                tables.stream().mapToLong(SnapshotCopyReport.Table::bytes).sum(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos), units.size(), copiedNow, restartedBecause,
                tables);
    }

    /** Live counts for heartbeats; rows of a unit in flight count as they stream, and are taken back if it fails. */
    static final class Progress {
        /** One table's counts: rows and bytes by several workers (adders, not one contended atomic). */
        private static final class Table {
            final LongAdder rows = new LongAdder();
            final LongAdder bytes = new LongAdder();
            int units;
            int unitsDone;
            long estimatedRows;
        }

        private final String slotLsn;
        private final long startedNanos = System.nanoTime();
        private final Map<TableRef, Table> tables = new LinkedHashMap<>();
        private final long rowsAtStart;

        Progress(String slotLsn, List<CopyUnit> all) {
            this.slotLsn = slotLsn;
            long done = 0;
            for (CopyUnit u : all) {
                Table t = tables.computeIfAbsent(u.table(), k -> new Table());
                t.units++;
                t.estimatedRows += u.estimatedRows();
                if (u.done()) {
                    t.unitsDone++;
                    t.rows.add(u.rows());
                    t.bytes.add(u.bytes());
                    done += u.rows();
                }
            }
            this.rowsAtStart = done;
        }

        void add(TableRef t, long rows, long bytes) {
            Table v = tables.get(t);
            v.rows.add(rows);
            v.bytes.add(bytes);
        }

        synchronized void unitDone(TableRef t) {
            tables.get(t).unitsDone++;
        }

        synchronized SnapshotCopyProgress snapshot() {
            List<SnapshotCopyProgress.Table> list = new ArrayList<>();
            long rows = 0;
            long bytes = 0;
            long estimated = 0;
            int units = 0;
            int unitsDone = 0;
            for (Map.Entry<TableRef, Table> e : tables.entrySet()) {
                Table t = e.getValue();
                long r = t.rows.sum();
                long est = Math.max(t.estimatedRows, r);
                rows += r;
                bytes += t.bytes.sum();
                estimated += est;
                units += t.units;
                unitsDone += t.unitsDone;
                list.add(new SnapshotCopyProgress.Table(e.getKey().toString(), t.units, t.unitsDone, r, t.bytes.sum(), est));
            }
            double secs = Math.max(0.001, (System.nanoTime() - startedNanos) / 1e9);
            double rate = (rows - rowsAtStart) / secs;
            Long eta = rate > 0 ? Math.max(0, (long) ((estimated - rows) / rate)) : null;
            return new SnapshotCopyProgress(slotLsn, units, unitsDone, rows, bytes, estimated, rate, eta, list);
        }
    }
}
