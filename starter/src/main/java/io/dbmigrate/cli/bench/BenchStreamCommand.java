package io.dbmigrate.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.pipeline.CaptureSetup;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.deploy.ComponentHealth;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.deploy.StackStatus;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Streaming lag and throughput of dbmigrate's pipeline against native logical replication, between the same two
 * clusters of the local stack, in one run. The applier runs inside this process (the same code the worker runs).
 */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = "Commit-to-visible lag at 1,000 and 2,500 single-row commits/s for dbmigrate and for native "
                + "logical replication, then dbmigrate's throughput with 10-row transactions; lost and duplicated rows "
                + "from a full comparison. Last line (--json): the 2,500/s result.")
public final class BenchStreamCommand implements Callable<Integer> {
    static final String DB = "dbmigrate_bench";

    @Mixin StackOptions stackOptions;
    @Spec CommandSpec spec;
    @Option(names = "--seconds", defaultValue = "20", description = "Seconds per measured phase (default ${DEFAULT-VALUE}).")
    int seconds;
    @Option(names = "--rates", split = ",", defaultValue = "1000,2500",
            description = "Single-row commit rates to measure, comma-separated (default ${DEFAULT-VALUE}).")
    int[] rates;
    @Option(names = "--skip-throughput", description = "Measure lag only: no 10-row throughput run, no backlog drain.")
    boolean skipThroughput;
    @Option(names = "--json", description = "Print one JSON object per rate; the last line covers 2,500/s.")
    boolean json;

    private PrintWriter out;
    private final AtomicLong nextTenRowKey = new AtomicLong();

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        LocalStack stack = stackOptions.stack(null);
        StackStatus status = stack.status();
        if (!status.healthy()) {
            status = stack.up(line -> info(line));
        }
        StackContext ctx = stack.context();
        String ref = "file:" + ctx.postgresPasswordFile();
        Endpoint admin = new Endpoint("127.0.0.1", ctx.ports().sourcePostgres(), "postgres", "postgres", ref);
        Endpoint source = new Endpoint("127.0.0.1", ctx.ports().sourcePostgres(), DB, "postgres", ref);
        Endpoint target = new Endpoint("127.0.0.1", ctx.ports().targetPostgres(), DB, "postgres", ref);
        String bootstrap = "127.0.0.1:" + ctx.ports().kafka();
        ConnectClient connect = new ConnectClient("http://127.0.0.1:" + ctx.ports().connect());
        CaptureSetup capture = new CaptureSetup(bootstrap, connect);
        StreamSpec stream = new StreamSpec("bench", StreamSpec.Direction.FORWARD, source, target,
                List.of(new TableRef("public", "dbm_lag"), new TableRef("public", "dbm_tp")), false);

        dropNative(target, source);
        capture.teardown(safe(stream, admin, target));
        recreate(admin, DB);
        recreate(new Endpoint(target.host(), target.port(), "postgres", "postgres", ref), DB);
        for (Endpoint e : List.of(source, target)) {
            exec(e, "CREATE TABLE dbm_lag (id bigint NOT NULL, ts timestamptz, payload text)",
                    "CREATE INDEX ON dbm_lag (id)", "ALTER TABLE dbm_lag REPLICA IDENTITY FULL",
                    "CREATE TABLE native_lag (id bigint NOT NULL, ts timestamptz, payload text)",
                    "CREATE INDEX ON native_lag (id)", "ALTER TABLE native_lag REPLICA IDENTITY FULL",
                    "CREATE TABLE dbm_tp (id bigint NOT NULL, ts timestamptz, payload text)",
                    "CREATE INDEX ON dbm_tp (id)", "ALTER TABLE dbm_tp REPLICA IDENTITY FULL");
        }
        exec(source, "CREATE PUBLICATION bench_native FOR TABLE native_lag");
        exec(target, "CREATE SUBSCRIPTION bench_native CONNECTION " + Sql.literal("host=127.0.0.1 port=" + source.port()
                + " dbname=" + DB + " user=postgres password=" + ctx.postgresPassword())
                + " PUBLICATION bench_native WITH (copy_data = false)");

        info("preparing dbmigrate capture (Debezium connector, topic) and starting the applier in this process");
        capture.prepare(stream);
        ChangeApplier applier = new ChangeApplier(stream, bootstrap, new SimpleMeterRegistry());
        AtomicBoolean applying = new AtomicBoolean(true);
        Thread applierThread = new Thread(() -> {
            try {
                applier.run(applying::get, p -> {});
            } catch (Exception e) {
                out.println("applier stopped: " + e.getMessage());
            }
        }, "applier");
        applierThread.start();
        List<Map<String, Object>> results = new ArrayList<>();
        try {
            StreamMonitor.awaitStreaming(stream, Duration.ofSeconds(120));
            waitNativeReady(target);
            Pipelines only = new Pipelines(source, target, stream, connect);
            // a migration streams for hours: measure JIT-compiled steady state, not Connect's first seconds
            info("warm-up (not counted): 20 s at 2,500 commits/s through dbmigrate, 3 s at 500/s through native");
            only.dbmigrate();
            LagProbe.run(source, target, "dbm_lag", 2500, 20, 4);
            only.nativeReplication();
            LagProbe.run(source, target, "native_lag", 500, 3, 2);
            for (int rate : rates) {
                int writers = rate <= 1000 ? 2 : 4;
                exec(source, "TRUNCATE dbm_lag", "TRUNCATE native_lag");
                only.dbmigrate();
                StreamMonitor.drain(stream, null, Duration.ofSeconds(60), s -> {});
                info(String.format("dbmigrate at %d commits/s for %d s ...", rate, seconds));
                Map<String, Long> phasePids = pids(stack.status());
                phasePids.put("bench JVM (applier)", ProcessHandle.current().pid());
                CpuSampler cpu = CpuSampler.start(phasePids);
                HopMeans hops = new HopMeans(applier);
                LagProbe.Result dbm = LagProbe.run(source, target, "dbm_lag", rate, seconds, writers);
                info("  CPU (cores): " + cpu.oneLine());
                info(String.format("  applier's own source-commit -> target-commit lag: mean %.1f ms max %.1f ms over %d transactions",
                        applier.lagTimer().mean(TimeUnit.MILLISECONDS), applier.lagTimer().max(TimeUnit.MILLISECONDS),
                        applier.lagTimer().count() - hops.count0));
                info("  " + hops.describe());
                only.nativeReplication();
                info(String.format("native logical replication at %d commits/s for %d s ...", rate, seconds));
                LagProbe.Result nat = LagProbe.run(source, target, "native_lag", rate, seconds, writers);
                only.dbmigrate();
                StreamMonitor.drain(stream, null, Duration.ofSeconds(60), s -> {});
                long[] diff = compare(source, target, "dbm_lag");
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("rate", rate);
                r.put("achievedRate", round(dbm.achievedRate()));
                r.put("lagP50Ms", round(dbm.p50Ms()));
                r.put("lagP99Ms", round(dbm.p99Ms()));
                r.put("nativeAchievedRate", round(nat.achievedRate()));
                r.put("nativeLagP50Ms", round(nat.p50Ms()));
                r.put("nativeLagP99Ms", round(nat.p99Ms()));
                r.put("lost", diff[0]);
                r.put("duplicated", diff[1]);
                results.add(r);
                info(String.format("  dbmigrate p50 %.1f ms p99 %.1f ms (achieved %.0f/s) | native p50 %.1f ms p99 %.1f ms | lost %d duplicated %d",
                        dbm.p50Ms(), dbm.p99Ms(), dbm.achievedRate(), nat.p50Ms(), nat.p99Ms(), diff[0], diff[1]));
            }
            if (skipThroughput) {
                return print(results);
            }
            Map<String, Long> pids = pids(stack.status());
            pids.put("bench JVM (applier)", ProcessHandle.current().pid());
            CpuSampler cpu = CpuSampler.start(pids);
            double[] tp = throughput(source, target, stream);
            Map<String, Double> cores = cpu.cores();
            info(String.format("throughput: %.0f changes/s written, %.0f changes/s applied end to end, caught up %.2f s after the writers stopped",
                    tp[0], tp[1], tp[2]));
            printCores("CPU during the throughput run", cores);
            double[] drain = backlogDrain(source, target, stream, connect, pids);
            long[] diff = compare(source, target, "dbm_tp");
            info(String.format("capacity: a backlog of %.0f changes drained at %.0f changes/s; dbm_tp lost %d duplicated %d",
                    drain[0], drain[1], diff[0], diff[1]));
            for (Map<String, Object> r : results) {
                r.put("maxChangesPerSec", Math.round(tp[1]));
                r.put("catchUpSeconds", round(tp[2]));
                r.put("backlogDrainChangesPerSec", Math.round(drain[1]));
                r.put("lost", (Long) r.get("lost") + diff[0]);
                r.put("duplicated", (Long) r.get("duplicated") + diff[1]);
            }
        } finally {
            applying.set(false);
            applierThread.join(30_000);
            dropNative(target, source);
            capture.teardown(stream);
        }
        return print(results);
    }

    private int print(List<Map<String, Object>> results) throws Exception {
        ObjectMapper m = new ObjectMapper();
        for (Map<String, Object> r : results) {
            out.println(json ? m.writeValueAsString(r) : r.toString());
        }
        out.flush();
        return 0;
    }

    /** 10-row transactions from 6 connections as fast as the source takes them; returns written/s, applied/s, catch-up s. */
    private double[] throughput(Endpoint source, Endpoint target, StreamSpec stream) throws Exception {
        info(String.format("dbmigrate throughput: 10-row transactions as fast as the source takes them for %d s ...", seconds));
        long before = count(target, "dbm_tp");
        long start = System.nanoTime();
        long written = writeTenRowTransactions(source, seconds);
        long stopped = System.nanoTime();
        StreamMonitor.drain(stream, null, Duration.ofMinutes(5), s -> {});
        long caughtUp = System.nanoTime();
        long applied = count(target, "dbm_tp") - before;
        return new double[] {written / ((stopped - start) / 1e9), applied / ((caughtUp - start) / 1e9), (caughtUp - stopped) / 1e9};
    }

    /**
     * What the pipeline sustains when it does not share the two cores with the writers: the connector is paused,
     * the writers fill the slot for the phase's length, then Debezium, Kafka and the applier drain the backlog.
     * Returns {changes in the backlog, changes/s from resume to applied}.
     */
    private double[] backlogDrain(Endpoint source, Endpoint target, StreamSpec stream, ConnectClient connect,
            Map<String, Long> pids) throws Exception {
        info(String.format("dbmigrate capacity: connector paused, %d s of 10-row transactions into the slot, then drained ...", seconds));
        connect.pause(stream.connectorName());
        long before = count(target, "dbm_tp");
        long written;
        try {
            written = writeTenRowTransactions(source, seconds);
        } finally {
            connect.resume(stream.connectorName());
        }
        long resumed = System.nanoTime();
        CpuSampler cpu = CpuSampler.start(pids);
        StreamMonitor.drain(stream, null, Duration.ofMinutes(10), s -> {});
        double secs = (System.nanoTime() - resumed) / 1e9;
        printCores("CPU while draining the backlog", cpu.cores());
        long applied = count(target, "dbm_tp") - before;
        if (applied != written) {
            throw new IllegalStateException("backlog drain applied " + applied + " of " + written + " changes");
        }
        return new double[] {written, applied / secs};
    }

    private void printCores(String what, Map<String, Double> cores) {
        info(String.format("%s (cores, of %d):", what, Runtime.getRuntime().availableProcessors()));
        cores.forEach((name, v) -> info(String.format("  %-22s %.2f", name, v)));
    }

    /** Writes 10-row transactions from 6 connections for the given seconds; returns the rows written. */
    private long writeTenRowTransactions(Endpoint source, int forSeconds) throws Exception {
        long before = count(source, "dbm_tp");
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> ws = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            Thread t = new Thread(() -> {
                try (Connection c = Pg.connect(source, "bench-tp"); PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO dbm_tp SELECT g, now(), ? FROM generate_series(?::bigint, ?::bigint) g")) {
                    String payload = "y".repeat(100);
                    while (writing.get()) {
                        long k = nextTenRowKey.getAndIncrement();
                        ps.setString(1, payload);
                        ps.setLong(2, k * 10);
                        ps.setLong(3, k * 10 + 9);
                        ps.executeUpdate();
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            ws.add(t);
        }
        Thread.sleep(forSeconds * 1000L);
        writing.set(false);
        for (Thread t : ws) {
            t.join();
        }
        return count(source, "dbm_tp") - before;
    }

    /** Mean of each lag hop over one phase (the timers are cumulative; their totals are differenced). */
    private static final class HopMeans {
        private final ChangeApplier.LagTimers t;
        private final long count0;
        private final double[] total0;

        HopMeans(ChangeApplier applier) {
            t = applier.lagHops();
            count0 = t.capture().count();
            total0 = totals();
        }

        private double[] totals() {
            return new double[] {t.capture().totalTime(TimeUnit.MILLISECONDS), t.delivery().totalTime(TimeUnit.MILLISECONDS),
                    t.apply().totalTime(TimeUnit.MILLISECONDS)};
        }

        String describe() {
            long n = Math.max(1, t.capture().count() - count0);
            double[] now = totals();
            return String.format("where it goes (mean per transaction): capture (source commit -> Kafka record) %.1f ms, "
                    + "delivery (Kafka -> applier) %.1f ms, apply (-> target commit) %.1f ms",
                    (now[0] - total0[0]) / n, (now[1] - total0[1]) / n, (now[2] - total0[2]) / n);
        }
    }

    private static Map<String, Long> pids(StackStatus status) {
        Map<String, Long> pids = new LinkedHashMap<>();
        for (ComponentHealth c : status.components()) {
            if (c.pid() != null && !c.name().equals("worker") && !c.name().equals("temporal")) {
                pids.put(c.name(), c.pid());
            }
        }
        return pids;
    }

    /** {lost, duplicated}: source rows missing on the target, target rows beyond the source (multiset by id). */
    static long[] compare(Endpoint source, Endpoint target, String table) throws SQLException {
        long[] a = ids(source, table);
        long[] b = ids(target, table);
        long lost = 0;
        long dup = 0;
        int i = 0;
        int j = 0;
        while (i < a.length || j < b.length) {
            if (j >= b.length || (i < a.length && a[i] < b[j])) {
                lost++;
                i++;
            } else if (i >= a.length || b[j] < a[i]) {
                dup++;
                j++;
            } else {
                i++;
                j++;
            }
        }
        return new long[] {lost, dup};
    }

    private static long[] ids(Endpoint e, String table) throws SQLException {
        try (Connection c = Pg.connect(e, "bench-compare"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id FROM " + Sql.table("public", table) + " ORDER BY id")) {
            long[] out = new long[1024];
            int n = 0;
            while (rs.next()) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = rs.getLong(1);
            }
            return Arrays.copyOf(out, n);
        }
    }

    private static long count(Endpoint e, String table) throws SQLException {
        try (Connection c = Pg.connect(e, "bench"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM " + Sql.table("public", table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Runs one pipeline at a time. Each one's walsender decodes all of the database's WAL, the other pipeline's
     * writes too (0.07-0.09 cores at 2,500 commits/s, plus the native apply worker's keepalives), so with both on,
     * each was measured paying for the other's decoding on the same two cores.
     */
    private static final class Pipelines {
        private final Endpoint source;
        private final Endpoint target;
        private final StreamSpec stream;
        private final ConnectClient connect;
        private boolean nativeOn = true; // a subscription is created enabled

        Pipelines(Endpoint source, Endpoint target, StreamSpec stream, ConnectClient connect) {
            this.source = source;
            this.target = target;
            this.stream = stream;
            this.connect = connect;
        }

        /** The native subscription off (its walsender gone), Debezium's connector running. */
        void dbmigrate() throws Exception {
            if (nativeOn) {
                exec(target, "ALTER SUBSCRIPTION bench_native DISABLE");
                await(source, "the native subscription's walsender to end",
                        "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'bench_native' AND NOT active");
                nativeOn = false;
            }
            connect.resume(stream.connectorName());
        }

        /** Debezium's connector stopped (its walsender gone), the native subscription on and caught up. */
        void nativeReplication() throws Exception {
            connect.stop(stream.connectorName());
            await(source, "Debezium's walsender to end",
                    "SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND NOT active", stream.slotName());
            String lsn;
            try (Connection c = Pg.connect(source, "bench")) {
                lsn = Pg.one(c, "SELECT pg_current_wal_lsn()::text");
            }
            exec(target, "ALTER SUBSCRIPTION bench_native ENABLE");
            nativeOn = true;
            waitNativeReady(target);
            // it decodes what was written while it was off before the phase starts, not during it
            await(source, "the native subscription to catch up", "SELECT 1 FROM pg_replication_slots"
                    + " WHERE slot_name = 'bench_native' AND confirmed_flush_lsn >= ?::pg_lsn", lsn);
        }
    }

    /** Polls until the query returns a row, for at most 60 s. */
    private static void await(Endpoint e, String what, String sql, String... args) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection c = Pg.connect(e, "bench")) {
                if (Pg.exists(c, sql, args)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waited 60 s for " + what);
            }
            Thread.sleep(100);
        }
    }

    private static void waitNativeReady(Endpoint target) throws Exception {
        await(target, "the native subscription to start",
                "SELECT 1 FROM pg_stat_subscription WHERE subname = 'bench_native' AND pid IS NOT NULL");
    }

    /** A leftover subscription (and its slot on the source) from an interrupted run. */
    private static void dropNative(Endpoint target, Endpoint source) {
        try {
            exec(target, "DROP SUBSCRIPTION IF EXISTS bench_native");
        } catch (SQLException e) {
            // database absent
        }
        try {
            exec(source, "DROP PUBLICATION IF EXISTS bench_native");
        } catch (SQLException e) {
            // database absent
        }
    }

    /** Teardown of an earlier run needs the bench database to exist; point at postgres when it does not. */
    private static StreamSpec safe(StreamSpec s, Endpoint admin, Endpoint target) {
        try (Connection c = Pg.connect(s.from(), "bench")) {
            return s;
        } catch (SQLException e) {
            return new StreamSpec(s.migrationId(), s.direction(), admin,
                    new Endpoint(target.host(), target.port(), "postgres", target.user(), target.passwordRef()), s.tables(), false);
        }
    }

    private static void recreate(Endpoint admin, String db) throws SQLException {
        exec(admin, "DROP DATABASE IF EXISTS " + Sql.ident(db) + " WITH (FORCE)", "CREATE DATABASE " + Sql.ident(db));
    }

    static void exec(Endpoint e, String... sql) throws SQLException {
        Pg.exec(e, "bench", sql);
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private void info(String line) {
        (json ? spec.commandLine().getErr() : out).println(line);
        (json ? spec.commandLine().getErr() : out).flush();
    }
}
