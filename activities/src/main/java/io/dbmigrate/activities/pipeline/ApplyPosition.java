package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;

/**
 * Where a stream's applier stands, kept on the applying side in a table dbmigrate owns and written in the same
 * transaction as the changes it covers: after any crash, the row and the data agree.
 */
public record ApplyPosition(
        long kafkaOffset,
        long commitLsn,
        long lsn,
        Instant commitTime,
        long marker,
        long transactions) {

    public static final String TABLE = "apply_position";

    public static ApplyPosition initial() {
        return new ApplyPosition(-1, 0, 0, null, 0, 0);
    }

    static String table(String controlSchema) {
        return Sql.table(controlSchema, TABLE);
    }

    public static void createTable(Connection c, String controlSchema) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(controlSchema));
            st.execute("CREATE TABLE IF NOT EXISTS " + table(controlSchema) + " ("
                    + "stream text PRIMARY KEY, kafka_offset bigint NOT NULL, commit_lsn bigint NOT NULL, "
                    + "lsn bigint NOT NULL, commit_time timestamptz, marker bigint NOT NULL, transactions bigint NOT NULL, "
                    + "applied_at timestamptz NOT NULL DEFAULT now())");
        }
    }

    public static Optional<ApplyPosition> read(Connection c, String controlSchema, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT kafka_offset, commit_lsn, lsn, commit_time, marker, transactions FROM "
                + table(controlSchema) + " WHERE stream = ?")) {
            ps.setString(1, stream);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Timestamp ts = rs.getTimestamp(4);
                return Optional.of(new ApplyPosition(rs.getLong(1), rs.getLong(2), rs.getLong(3),
                        ts == null ? null : ts.toInstant(), rs.getLong(5), rs.getLong(6)));
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * A start position for a stream whose topic also holds changes that must not be applied: offset -1 (nothing
     * applied), commit LSN {@code startAfterLsn}, so the applier skips every transaction committed at or before it as
     * already applied. Stored only while nothing was applied; returns the start position in force.
     */
    public static long seed(Connection c, String controlSchema, String stream, long startAfterLsn) throws SQLException {
        createTable(c, controlSchema);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table(controlSchema) + " AS p (kafka_offset, "
                + "commit_lsn, lsn, marker, transactions, stream) VALUES (-1, ?, ?, 0, 0, ?) ON CONFLICT (stream) DO UPDATE "
                + "SET commit_lsn = EXCLUDED.commit_lsn, lsn = EXCLUDED.lsn WHERE p.kafka_offset < 0")) {
            ps.setLong(1, startAfterLsn);
            ps.setLong(2, startAfterLsn);
            ps.setString(3, stream);
            ps.executeUpdate();
        }
        return read(c, controlSchema, stream).orElseThrow().commitLsn();
    }

    /** Removes a stream's position (a new capture starts from an empty topic). */
    public static void forget(Connection c, String controlSchema, String stream) throws SQLException {
        if (read(c, controlSchema, stream).isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table(controlSchema) + " WHERE stream = ?")) {
            ps.setString(1, stream);
            ps.executeUpdate();
        }
    }

    /**
     * Stores this position if the stored one is still {@code expected}, the one the caller read or wrote last
     * (compare-and-set on the topic offset, which only grows): the first write inserts the row only if none exists,
     * later ones update it only if it still holds the expected offset. Returns false when another writer moved or
     * removed it; the caller then rolls back, and the changes written with it go too. A concurrent writer's update
     * makes this one wait for its commit and then find the new offset.
     */
    boolean writeIfUnchanged(Connection c, String controlSchema, String stream, ApplyPosition expected) throws SQLException {
        // the first write inserts the row, or replaces a start position (offset -1, see seed) and nothing else
        String sql = expected.kafkaOffset() < 0
                ? "INSERT INTO " + table(controlSchema) + " AS p (kafka_offset, commit_lsn, lsn, commit_time, marker, transactions, "
                        + "applied_at, stream) VALUES (?, ?, ?, ?, ?, ?, now(), ?) ON CONFLICT (stream) DO UPDATE SET "
                        + "kafka_offset = EXCLUDED.kafka_offset, commit_lsn = EXCLUDED.commit_lsn, lsn = EXCLUDED.lsn, "
                        + "commit_time = EXCLUDED.commit_time, marker = EXCLUDED.marker, transactions = EXCLUDED.transactions, "
                        + "applied_at = now() WHERE p.kafka_offset < 0"
                : "UPDATE " + table(controlSchema) + " SET kafka_offset = ?, commit_lsn = ?, lsn = ?, commit_time = ?, "
                        + "marker = ?, transactions = ?, applied_at = now() WHERE stream = ? AND kafka_offset = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, kafkaOffset);
            ps.setLong(2, commitLsn);
            ps.setLong(3, lsn);
            ps.setTimestamp(4, commitTime == null ? null : Timestamp.from(commitTime));
            ps.setLong(5, marker);
            ps.setLong(6, transactions);
            ps.setString(7, stream);
            if (expected.kafkaOffset() >= 0) {
                ps.setLong(8, expected.kafkaOffset());
            }
            return ps.executeUpdate() == 1;
        }
    }
}
