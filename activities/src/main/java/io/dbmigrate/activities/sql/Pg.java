package io.dbmigrate.activities.sql;

import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;

/** JDBC connections to an {@link Endpoint}, password resolved from its reference. */
public final class Pg {
    private Pg() {}

    public static String url(Endpoint e) {
        return "jdbc:postgresql://" + e.host() + ":" + e.port() + "/" + e.database();
    }

    public static Properties properties(Endpoint e, String applicationName) {
        Properties p = new Properties();
        p.setProperty("user", e.user());
        p.setProperty("password", SecretRef.resolve(e.passwordRef()));
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        p.setProperty("tcpKeepAlive", "true");
        return p;
    }

    public static Connection connect(Endpoint e, String applicationName) throws SQLException {
        return connect(e, applicationName, Map.of());
    }

    /** A connection with driver options beside the common ones (for example pgjdbc's reWriteBatchedInserts). */
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
