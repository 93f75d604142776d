package io.dbmigrate.cli.bench;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Commit-to-visible lag, measured the same way for every pipeline: writers commit single-row inserts at a fixed
 * rate on the source and note when each commit returned; a poller on the target notes when each row became visible.
 * Both clocks are this JVM's nanoTime.
 */
final class LagProbe {
    record Result(int rate, double achievedRate, double p50Ms, double p99Ms, long rows, long unseen) {}

    private LagProbe() {}

    static Result run(Endpoint source, Endpoint target, String table, int rate, int seconds, int writers) throws Exception {
        int total = rate * seconds;
        long[] committedAt = new long[total];
        long[] visibleAt = new long[total];
        AtomicLong next = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        long t0 = System.nanoTime() + 200_000_000L;
        long periodNanos = 1_000_000_000L / rate;
        String insert = "INSERT INTO " + Sql.table("public", table) + " (id, ts, payload) VALUES (?, now(), ?)";
        Thread[] ws = new Thread[writers];
        for (int w = 0; w < writers; w++) {
            ws[w] = new Thread(() -> {
                try (Connection c = Pg.connect(source, "bench-writer"); PreparedStatement ps = c.prepareStatement(insert)) {
                    String payload = "x".repeat(100);
                    while (true) {
                        long k = next.getAndIncrement();
                        if (k >= total) {
                            return;
                        }
                        long slot = t0 + k * periodNanos;
                        long wait = slot - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        ps.setLong(1, k);
                        ps.setString(2, payload);
                        ps.executeUpdate();
                        committedAt[(int) k] = System.nanoTime();
                    }
                } catch (SQLException e) {
                    failed.set(true);
                    throw new IllegalStateException(e);
                }
            }, "bench-writer-" + w);
            ws[w].start();
        }
        long unseen;
        try (Connection c = Pg.connect(target, "bench-poller");
                PreparedStatement ps = c.prepareStatement("SELECT id FROM " + Sql.table("public", table) + " WHERE id >= ?")) {
            long low = 0;
            long deadline = t0 + (seconds + 30L) * 1_000_000_000L;
            while (low < total && System.nanoTime() < deadline && !failed.get()) {
                ps.setLong(1, low);
                try (ResultSet rs = ps.executeQuery()) {
                    long now = System.nanoTime();
                    while (rs.next()) {
                        int id = (int) rs.getLong(1);
                        if (visibleAt[id] == 0) {
                            visibleAt[id] = now;
                        }
                    }
                }
                while (low < total && visibleAt[(int) low] != 0) {
                    low++;
                }
                LockSupport.parkNanos(2_000_000); // 2 ms, as in STACK.md's measurements
            }
            unseen = total - low;
        }
        for (Thread w : ws) {
            w.join();
        }
        double[] lags = new double[total];
        int n = 0;
        long first = Long.MAX_VALUE;
        long last = 0;
        for (int i = 0; i < total; i++) {
            if (committedAt[i] != 0 && visibleAt[i] != 0) {
                // visible before the writer saw its own commit return: the poll raced the ack; lag is ~0
                lags[n++] = Math.max(0, visibleAt[i] - committedAt[i]) / 1e6;
            }
            if (committedAt[i] != 0) {
                first = Math.min(first, committedAt[i]);
                last = Math.max(last, committedAt[i]);
            }
        }
        String series = System.getProperty("dbmigrate.bench.series");
        if (series != null) {
            try (java.io.PrintWriter w = new java.io.PrintWriter(series + "-" + table + "-" + rate + ".tsv")) {
                for (int i = 0; i < total; i++) {
                    if (committedAt[i] != 0 && visibleAt[i] != 0) {
                        w.printf("%.1f\t%.1f%n", (committedAt[i] - t0) / 1e6, Math.max(0, visibleAt[i] - committedAt[i]) / 1e6);
                    }
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
        double[] sorted = Arrays.copyOf(lags, n);
        Arrays.sort(sorted);
        double achieved = last > first ? (total - 1) / ((last - first) / 1e9) : 0;
        return new Result(rate, achieved, percentile(sorted, 0.50), percentile(sorted, 0.99), total, unseen);
    }

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    static String randomPayload(int n) {
        StringBuilder b = new StringBuilder(n);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + r.nextInt(26)));
        }
        return b.toString();
    }
}
