package io.dbmigrate.pipeline;

import io.dbmigrate.it.ItPorts;
import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.pipeline.CaptureSetup;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** One real local stack for the pipeline integration tests, started once per test JVM and stopped at its exit. */
public final class PipelineStack {
    static final Path ROOT = StackLayout.findRepoRoot(Path.of(""));
    // its own port block (see StackIT.PORT_BLOCK)
    static final StackPorts PORTS = ItPorts.block(28);
    private static LocalStack stack;

    private PipelineStack() {}

    public static synchronized LocalStack get() {
        if (stack == null) {
            LocalStack s = new LocalStack(new StackLayout(ROOT.resolve("starter/target/it-pipeline"), ROOT), PORTS,
                    System.getProperty("java.class.path"));
            // registered before up(): a start that fails half-way must not leave its components running (they held
            // the next run's ports)
            if (!Boolean.getBoolean("dbmigrate.it.keepStack")) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> s.down(false, line -> {})));
            }
            s.up(line -> System.out.println("[stack] " + line));
            stack = s;
        }
        return stack;
    }

    public static String bootstrap() {
        return "127.0.0.1:" + PORTS.kafka();
    }

    public static ConnectClient connect() {
        return new ConnectClient("http://127.0.0.1:" + PORTS.connect());
    }

    static Endpoint endpoint(int port, String db) {
        String ref = "file:" + get().context().postgresPasswordFile();
        return new Endpoint("127.0.0.1", port, db, "postgres", ref);
    }

    /** A fresh database of this name on both clusters. */
    public static void freshDatabases(String db) throws SQLException {
        get();
        for (int port : new int[] {PORTS.sourcePostgres(), PORTS.targetPostgres()}) {
            try (Connection c = Pg.connect(endpoint(port, "postgres"), "it"); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS \"" + db + "\" WITH (FORCE)");
                st.execute("CREATE DATABASE \"" + db + "\"");
            }
        }
    }

    public static Endpoint source(String db) {
        return endpoint(PORTS.sourcePostgres(), db);
    }

    public static Endpoint target(String db) {
        return endpoint(PORTS.targetPostgres(), db);
    }

    public static StreamSpec forward(String id, String db, List<TableRef> tables, boolean snapshot) {
        return new StreamSpec(id, StreamSpec.Direction.FORWARD, source(db), target(db), tables, snapshot);
    }

    public static void exec(Endpoint e, String... sql) throws SQLException {
        Pg.exec(e, "it", sql);
    }

    /** Nothing dbmigrate owns is left on either cluster or in Connect once a stream is torn down. */
    public static void assertNoLeftovers(String db) throws SQLException {
        List<String> left = io.dbmigrate.activities.migration.Leftovers.list(source(db), target(db), connect()).stream()
                // the applying side's position schema belongs to the migration, which removes it at cleanup
                .filter(l -> !l.startsWith("target schema dbmigrate_")).toList();
        if (!left.isEmpty()) {
            throw new AssertionError("leftovers after teardown: " + left);
        }
    }

    public static CaptureSetup capture() {
        return new CaptureSetup(bootstrap(), connect());
    }
}
