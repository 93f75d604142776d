package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Pg;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The lock that makes an applier the only one of its stream: a session-level advisory lock on the applying database,
 * key {@code hashtextextended('dbmigrate.applier:' || <stream id>, 0)} (computed by the server, so every applier of
 * every version agrees on it). Session-level: it lives exactly as long as the connection that took it, across
 * transactions, and goes with the session however the session ends.
 */
final class StreamLock {
    private static final String KEY_PREFIX = "dbmigrate.applier:";
    private static final String KEY = "hashtextextended(CAST(? AS text), 0)";

    /** One backend, told apart from a later one with the same pid by its start time. */
    record Session(int pid, long startMicros) {}

    /** Who holds a stream's lock, as far as pg_stat_activity tells this role. */
    record Holder(Session session, String applicationName, String client, String since, String state) {
        String describe() {
            return "pid " + session.pid() + " (application_name " + orUnknown(applicationName) + ", client "
                    + orUnknown(client) + ", connected since " + orUnknown(since) + ", state " + orUnknown(state) + ")";
        }

        private static String orUnknown(String s) {
            return s == null ? "?" : s;
        }
    }

    private StreamLock() {}

    /** The key as SQL an operator can run on the applying database. */
    static String keySql(String stream) {
        return "hashtextextended('" + KEY_PREFIX + stream.replace("'", "''") + "', 0)";
    }

    /** Takes the lock if no other session holds it (a session that already holds it gets it again). */
    static boolean tryLock(Connection c, String stream) throws SQLException {
        return Pg.exists(c, "SELECT 1 WHERE pg_try_advisory_lock(" + KEY + ")", KEY_PREFIX + stream);
    }

    static Session self(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pid, (extract(epoch FROM backend_start) * 1000000)::bigint"
                + " FROM pg_stat_activity WHERE pid = pg_backend_pid()");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new Session(rs.getInt(1), rs.getLong(2));
        }
    }

    /**
     * The other session holding the lock, if any still does. A bigint advisory key shows in pg_locks as classid (high
     * 32 bits), objid (low 32 bits) and objsubid 1, in the holder's database.
     */
    static Optional<Holder> holder(Connection c, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT l.pid, (extract(epoch FROM a.backend_start) * 1000000)::bigint, a.application_name,
                       host(a.client_addr) || ':' || a.client_port, a.backend_start::text, a.state
                  FROM (SELECT %s AS k) key
                  JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND l.classid = ((key.k >> 32) & 4294967295)::oid AND l.objid = (key.k & 4294967295)::oid
                  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.pid <> pg_backend_pid()""".formatted(KEY))) {
            ps.setString(1, KEY_PREFIX + stream);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Holder(new Session(rs.getInt(1), rs.getLong(2)), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6)));
            }
        }
    }

    /** Ends another backend of this role (pg_terminate_backend); false when it is gone already or not allowed. */
    static boolean terminate(Connection c, int pid) throws SQLException {
        try {
            return Pg.exists(c, "SELECT 1 WHERE pg_terminate_backend(CAST(? AS int))", Integer.toString(pid));
        } catch (SQLException e) {
            if ("42501".equals(e.getSQLState())) {
                return false; // not this role's backend (nor pg_signal_backend): the caller reports the holder instead
            }
            throw e;
        }
    }
}
