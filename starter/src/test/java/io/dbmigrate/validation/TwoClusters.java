package io.dbmigrate.validation;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.it.ItPorts;
import io.dbmigrate.workflows.model.Endpoint;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Only the two PostgreSQL clusters of a local stack (no Kafka, Connect or Temporal: the validation needs none), in
 * their own home and port block, started once per test JVM and stopped at its exit.
 */
public final class TwoClusters {
    static final Path ROOT = StackLayout.findRepoRoot(Path.of(""));
    public static final Path HOME = ROOT.resolve("starter/target/it-validation");
    // its own port block (see ItPorts)
    static final StackPorts PORTS = ItPorts.block(20);
    private static LocalStack stack;

    private TwoClusters() {}

    public static synchronized LocalStack get() {
        if (stack == null) {
            LocalStack s = new LocalStack(new StackLayout(HOME, ROOT), PORTS, System.getProperty("java.class.path"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> s.down(false, line -> {})));
            s.upPostgres(line -> System.out.println("[clusters] " + line));
            stack = s;
        }
        return stack;
    }

    static Endpoint endpoint(int port, String db) {
        return new Endpoint("127.0.0.1", port, db, "postgres", "file:" + get().context().postgresPasswordFile());
    }

    public static Endpoint source(String db) {
        return endpoint(PORTS.sourcePostgres(), db);
    }

    public static Endpoint target(String db) {
        return endpoint(PORTS.targetPostgres(), db);
    }

    /** A fresh database on each cluster; {@code targetOptions} are added to the target's CREATE DATABASE. */
    public static void freshDatabases(String db, String targetOptions) throws SQLException {
        for (Endpoint e : new Endpoint[] {source("postgres"), target("postgres")}) {
            try (Connection c = Pg.connect(e, "it"); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS \"" + db + "\" WITH (FORCE)");
                st.execute("CREATE DATABASE \"" + db + "\"" + (e.port() == PORTS.targetPostgres() ? " " + targetOptions : ""));
            }
        }
    }

    public static void exec(Endpoint e, String... sql) throws SQLException {
        Pg.exec(e, "it", sql);
    }
}
