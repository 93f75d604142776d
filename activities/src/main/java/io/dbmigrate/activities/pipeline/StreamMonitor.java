package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/** Lag and drain for one stream, read from both databases (never from Kafka's coarse committed offsets). */
public final class StreamMonitor {
    private StreamMonitor() {}

    public static StreamLag lag(StreamSpec spec) throws SQLException {
        long current;
        long retained = 0;
        try (Connection from = Pg.connect(spec.from(), "dbmigrate-monitor")) {
            current = currentLsn(from);
            try (PreparedStatement ps = from.prepareStatement(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, spec.slotName());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        retained = rs.getLong(1);
                    }
                }
            }
        }
        ApplyPosition p;
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-monitor")) {
            p = ApplyPosition.read(to, ChangeApplier.applySchema(spec), spec.streamId()).orElse(ApplyPosition.initial());
        }
        double age = p.commitTime() == null ? -1 : Duration.between(p.commitTime(), Instant.now()).toMillis() / 1000.0;
        return new StreamLag(Lsn.format(current), Lsn.format(p.lsn()), p.lsn() == 0 ? current : Math.max(0, current - p.lsn()),
                age, retained, p.transactions());
    }

    /**
     * Waits until the applier has applied at least one streamed transaction (the heartbeat commits one every second
     * once Debezium streams), i.e. until the initial snapshot, if any, is through and changes flow.
     */
    public static void awaitStreaming(StreamSpec spec, Duration timeout) throws SQLException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-monitor")) {
            while (true) {
                ApplyPosition p = ApplyPosition.read(to, ChangeApplier.applySchema(spec), spec.streamId()).orElse(ApplyPosition.initial());
                if (p.transactions() > 0) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException(spec.streamId() + " is not streaming after " + timeout
                            + ": check the connector's state and the applier");
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", "57014");
                }
            }
        }
    }

    static long currentLsn(Connection c) throws SQLException {
        return Lsn.parse(Pg.one(c, "SELECT pg_current_wal_lsn()::text"));
    }

    /**
     * Returns once every change committed on the capturing side at or before {@code lsn} is applied. A marker
     * committed after {@code lsn} travels the same ordered stream; when the applier has passed it, everything
     * committed before it has been applied too. Returns the applied position's LSN.
     */
    public static String drain(StreamSpec spec, String lsn, Duration timeout, Consumer<String> progress)
            throws SQLException, TimeoutException {
        long wanted = lsn == null ? 0 : Lsn.parse(lsn);
        long marker;
        try (Connection from = Pg.connect(spec.from(), "dbmigrate-drain")) {
            if (currentLsn(from) < wanted) {
                throw new IllegalArgumentException("LSN " + lsn + " is ahead of the capturing side's current WAL position");
            }
            try (PreparedStatement ps = from.prepareStatement("UPDATE " + Sql.table(spec.controlSchema(), CaptureSetup.HEARTBEAT_TABLE)
                    + " SET marker = marker + 1, at = now() WHERE id = 1 RETURNING marker")) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("heartbeat row missing in " + spec.controlSchema() + " (capture not prepared?)");
                    }
                    marker = rs.getLong(1);
                }
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-drain")) {
            while (true) {
                ApplyPosition p = ApplyPosition.read(to, ChangeApplier.applySchema(spec), spec.streamId()).orElse(ApplyPosition.initial());
                if (p.marker() >= marker) {
                    return Lsn.format(p.lsn());
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("drain of " + spec.streamId() + " did not reach marker " + marker + " within "
                            + timeout + " (applied marker " + p.marker() + ", applied LSN " + Lsn.format(p.lsn()) + ")");
                }
                progress.accept("waiting for marker " + marker + ", applied " + p.marker());
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", "57014");
                }
            }
        }
    }
}
