package io.dbmigrate.activities.sql;

import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
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
        return DriverManager.getConnection(url(e), properties(e, applicationName));
    }
}
