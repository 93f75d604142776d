package io.dbmigrate.cli.bench;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

/**
 * The baseline of {@code bench snapshot}: what the two clusters allow with nothing in between. Per table,
 * {@code COPY t TO STDOUT (FORMAT binary)} on the source streamed buffer by buffer into
 * {@code COPY t FROM STDIN (FORMAT binary)} on the target through PgJDBC's copy API, {@code jobs} tables at a time
 * (largest first); the target's tables are created without keys and get them after their data, all keys in parallel
 * too, as a tuned copy does.
 */
final class BinaryCopyPipe {
    private static final Map<String, String> LONG_STATEMENTS = Pg.timeouts(Duration.ofHours(12), Duration.ofHours(12).plusMinutes(1));

    /** Seconds of the data copy and of the key builds; bytes of binary COPY data that went through. */
    record Result(double copySeconds, double keySeconds, long copyBytes) {
        double seconds() {
            return copySeconds + keySeconds;
        }
    }

    private BinaryCopyPipe() {}

    /** Copies every table of {@link SnapshotData} from {@code source} into {@code target}, an empty database. */
    static Result run(Endpoint source, Endpoint target, int jobs, Consumer<String> info) throws Exception {
        List<SnapshotData.Table> tables = new ArrayList<>(SnapshotData.TABLES);
        Map<SnapshotData.Table, Long> sizes = new java.util.HashMap<>();
        try (Connection c = Pg.connect(source, "dbmigrate-bench")) {
            for (SnapshotData.Table t : tables) {
                sizes.put(t, Long.parseLong(Pg.one(c, "SELECT pg_table_size(?::regclass)::text", Sql.table(t.ref()))));
            }
        }
        tables.sort(Comparator.comparing((SnapshotData.Table t) -> sizes.get(t)).reversed());
        Pg.exec(target, "dbmigrate-bench", tables.stream().map(SnapshotData.Table::createTable).toArray(String[]::new));
        ExecutorService pool = Executors.newFixedThreadPool(jobs);
        try {
            long t0 = System.nanoTime();
            List<Future<Long>> copies = new ArrayList<>();
            for (SnapshotData.Table t : tables) {
                copies.add(pool.submit(() -> copy(source, target, t)));
            }
            long bytes = 0;
            for (Future<Long> f : copies) {
                bytes += f.get();
            }
            long t1 = System.nanoTime();
            List<Future<?>> keys = new ArrayList<>();
            for (SnapshotData.Table t : tables) {
                keys.add(pool.submit(() -> {
                    Pg.exec(target, "dbmigrate-bench", t.addPrimaryKey());
                    return null;
                }));
            }
            for (Future<?> f : keys) {
                f.get();
            }
            long t2 = System.nanoTime();
            info.accept(String.format("  raw binary COPY: data %.1f s (%,d bytes of COPY data), primary keys %.1f s",
                    (t1 - t0) / 1e9, bytes, (t2 - t1) / 1e9));
            return new Result((t1 - t0) / 1e9, (t2 - t1) / 1e9, bytes);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One table through the pipe; returns the bytes of COPY data. */
    private static long copy(Endpoint source, Endpoint target, SnapshotData.Table t) throws SQLException {
        String table = Sql.table(t.ref());
        try (Connection from = Pg.connect(source, "dbmigrate-bench-copy", LONG_STATEMENTS);
                Connection to = Pg.connect(target, "dbmigrate-bench-copy", LONG_STATEMENTS)) {
            CopyOut out = from.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY " + table + " TO STDOUT (FORMAT binary)");
            CopyIn in = to.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + table + " FROM STDIN (FORMAT binary)");
            long bytes = 0;
            try {
                byte[] buf;
                while ((buf = out.readFromCopy()) != null) {
                    in.writeToCopy(buf, 0, buf.length);
                    bytes += buf.length;
                }
                in.endCopy();
            } finally {
                if (in.isActive()) {
                    in.cancelCopy();
                }
                if (out.isActive()) {
                    out.cancelCopy();
                }
            }
            return bytes;
        }
    }
}
