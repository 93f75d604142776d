package io.dbmigrate.activities.sql;

import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * JDBC connections to an {@link Endpoint}, password resolved from its reference.
 *
 * <p>Every connection is bounded: {@code connectTimeout} (TCP connect), {@code loginTimeout} (the whole login, which
 * pgjdbc otherwise bounds only by the socket timeout), a server-side {@code statement_timeout} and a client-side
 * {@code socketTimeout} somewhat longer than it. The server cancels a statement first (SQLSTATE 57014, the session
 * stays usable, the message is the database's); the socket timeout only fires when the server or the network went
 * silent, which TCP keepalive alone notices after hours. Callers whose statements run longer pass their own
 * {@link #timeouts(Duration, Duration)} through {@link #connect(Endpoint, String, Map)}.
 */
public final class Pg {
    /** TCP connect. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** The whole login: below a 30 s activity heartbeat timeout, so a retry loop can heartbeat between attempts. */
    public static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(20);
    /**
     * Default statement bound: setup, DDL on empty tables, catalog reads, monitoring. Half the 10-minute limit of the
     * short activities, so a hung statement fails its attempt with the database's own error and leaves time to retry.
     */
    public static final Duration STATEMENT_TIMEOUT = Duration.ofMinutes(5);
    /** Default client-side bound: a minute more than the statement bound. */
    public static final Duration SOCKET_TIMEOUT = STATEMENT_TIMEOUT.plusMinutes(1);

    private Pg() {}

    public static String url(Endpoint e) {
        return "jdbc:postgresql://" + e.host() + ":" + e.port() + "/" + e.database();
    }

    public static Properties properties(Endpoint e, String applicationName) {
        Properties p = new Properties();
        p.setProperty("user", e.user());
        p.setProperty("password", SecretRef.resolve(e.passwordRef()));
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", Long.toString(CONNECT_TIMEOUT.toSeconds()));
        p.setProperty("loginTimeout", Long.toString(LOGIN_TIMEOUT.toSeconds()));
        p.setProperty("tcpKeepAlive", "true");
        p.putAll(timeouts(STATEMENT_TIMEOUT, SOCKET_TIMEOUT));
        return p;
    }

    /**
     * Driver options for a connection whose statements may run up to {@code statement} (server-side
     * statement_timeout) and whose socket may stay silent up to {@code socket} (pgjdbc's socketTimeout, whole
     * seconds). The socket bound must be the longer one, so that a slow statement is cancelled by the server.
     * These options replace pgjdbc's {@code options}: a caller that needs more server settings uses
     * {@link #timeouts(Duration, Duration, Map)}.
     */
    public static Map<String, String> timeouts(Duration statement, Duration socket) {
        return timeouts(statement, socket, Map.of());
    }

    /** As {@link #timeouts(Duration, Duration)}, with further server settings for the session (applied at login). */
    public static Map<String, String> timeouts(Duration statement, Duration socket, Map<String, String> serverSettings) {
        if (socket.compareTo(statement) <= 0 || socket.toSeconds() < 1) {
            throw new IllegalArgumentException("the socket timeout (" + socket + ") must exceed the statement timeout ("
                    + statement + ") so that the server cancels a slow statement first");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("statement_timeout", statement.toMillis() + "ms");
        settings.putAll(serverSettings);
        return Map.of("socketTimeout", Long.toString(socket.toSeconds()), "options", serverOptions(settings));
    }

    /** The common timeouts with further server settings for the session. */
    public static Map<String, String> settings(Map<String, String> serverSettings) {
        return timeouts(STATEMENT_TIMEOUT, SOCKET_TIMEOUT, serverSettings);
    }

    /** pgjdbc's {@code options} startup parameter: {@code -c name=value} per setting. */
    static String serverOptions(Map<String, String> settings) {
        return settings.entrySet().stream().map(s -> {
            if (!s.getKey().matches("[a-z_.]+") || !s.getValue().matches("[A-Za-z0-9_.:-]+")) {
                // the server splits the options on spaces; nothing here needs escaping, so nothing is allowed to
                throw new IllegalArgumentException("unsupported server setting " + s.getKey() + "=" + s.getValue());
            }
            return "-c " + s.getKey() + "=" + s.getValue();
        }).collect(Collectors.joining(" "));
    }

    public static Connection connect(Endpoint e, String applicationName) throws SQLException {
        return connect(e, applicationName, Map.of());
    }

    /**
     * A connection with driver options beside the common ones (for example pgjdbc's reWriteBatchedInserts, or
     * {@link #timeouts(Duration, Duration)} for longer statements); an option given here replaces the common one.
     */
    public static Connection connect(Endpoint e, String applicationName, Map<String, String> driverOptions)
            throws SQLException {
        Properties p = properties(e, applicationName);
        p.putAll(driverOptions);
        return DriverManager.getConnection(url(e), p);
    }

    /** Runs statements in order on a connection of its own (DDL and setup; never with values spliced in). */
    public static void exec(Endpoint e, String applicationName, String... sql) throws SQLException {
        try (Connection c = connect(e, applicationName); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /** Whether the query, with its arguments bound, returns a row. */
    public static boolean exists(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The first column of the first row, as text (null when there is no row). */
    public static String one(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
