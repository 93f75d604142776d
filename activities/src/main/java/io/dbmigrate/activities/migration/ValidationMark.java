package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the last live validation that passed proved, kept on the applying side next to the applied position (in the
 * same dbmigrate-owned schema, so the target's cleanup drops it): every row of {@code tables} was equal on both sides
 * with the stream applied up to topic offset {@code kafkaOffset} (read before the pass read anything) of the topic
 * whose Kafka id is {@code topicId}. The frozen validation starts from it (see {@link FrozenValidation}).
 */
public record ValidationMark(long kafkaOffset, String topicId, List<TableRef> tables, Instant takenAt) {
    public static final String TABLE = "validation_mark";

    static String table(String controlSchema) {
        return Sql.table(controlSchema, TABLE);
    }

    static void createTable(Connection c, String controlSchema) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(controlSchema));
            st.execute("CREATE TABLE IF NOT EXISTS " + table(controlSchema) + " (stream text PRIMARY KEY, "
                    + "kafka_offset bigint NOT NULL, topic_id text NOT NULL, table_schemas text[] NOT NULL, table_names text[] NOT NULL, "
                    + "taken_at timestamptz NOT NULL)");
        }
    }

    public static Optional<ValidationMark> read(Connection c, String controlSchema, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT kafka_offset, topic_id, table_schemas, table_names, taken_at FROM " + table(controlSchema)
                + " WHERE stream = ?")) {
            ps.setString(1, stream);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String[] schemas = (String[]) rs.getArray(3).getArray();
                String[] names = (String[]) rs.getArray(4).getArray();
                List<TableRef> tables = new ArrayList<>();
                for (int i = 0; i < Math.min(schemas.length, names.length); i++) {
                    tables.add(new TableRef(schemas[i], names[i]));
                }
                return Optional.of(new ValidationMark(rs.getLong(1), rs.getString(2), tables, rs.getTimestamp(5).toInstant()));
            }
        } catch (SQLException e) {
            if (missing(e)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Replaces the stream's mark (one per stream: the newest live pass that passed). */
    void write(Connection c, String controlSchema, String stream) throws SQLException {
        createTable(c, controlSchema);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table(controlSchema)
                + " (stream, kafka_offset, topic_id, table_schemas, table_names, taken_at) VALUES (?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT (stream) DO UPDATE SET kafka_offset = EXCLUDED.kafka_offset, topic_id = EXCLUDED.topic_id, "
                + "table_schemas = EXCLUDED.table_schemas, table_names = EXCLUDED.table_names, taken_at = EXCLUDED.taken_at")) {
            ps.setString(1, stream);
            ps.setLong(2, kafkaOffset);
            ps.setString(3, topicId);
            ps.setArray(4, c.createArrayOf("text", tables.stream().map(TableRef::schema).toArray()));
            ps.setArray(5, c.createArrayOf("text", tables.stream().map(TableRef::name).toArray()));
            ps.setTimestamp(6, Timestamp.from(takenAt));
            ps.executeUpdate();
        }
    }

    /** Removes the stream's mark: a live pass begins (it proves nothing until it passes), or the stream starts anew. */
    public static void forget(Connection c, String controlSchema, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table(controlSchema) + " WHERE stream = ?")) {
            ps.setString(1, stream);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!missing(e)) {
                throw e;
            }
        }
    }

    private static boolean missing(SQLException e) {
        return "42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState());
    }
}
