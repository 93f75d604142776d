package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A PostgreSQL cluster of the local stack. PostgreSQL refuses to run as root, so when the CLI runs as root the
 * cluster belongs to the {@code postgres} user (or a {@code dbmigrate} system user created for it).
 */
public final class PostgresComponent extends Component {
    private final int port;
    private final boolean logicalRequired;

    public PostgresComponent(String name, int port, boolean logicalRequired, StackContext ctx) {
        super(name, ctx);
        this.port = port;
        this.logicalRequired = logicalRequired;
    }

    @Override
    public String address() {
        return "postgresql://127.0.0.1:" + port + "/postgres";
    }

    public int port() {
        return port;
    }

    private Path dataDir() {
        return ctx.layout().data(name);
    }

    @Override
    protected void launch() {
        PostgresBinaries pg = PostgresBinaries.locate(ctx.layout().home());
        OsUser owner = OsUser.forPostgres();
        Path data = dataDir();
        Path log = ctx.layout().log(name);
        try {
            if (!Files.exists(data.resolve("PG_VERSION"))) {
                initdb(pg, owner, data);
            }
            if (!Files.exists(log)) {
                Files.createFile(log);
            }
            owner.chown(log);
            Files.deleteIfExists(data.resolve("postmaster.pid"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PortCheck.requireFree(port, name);
        List<String> cmd = new ArrayList<>(owner.prefix());
        cmd.addAll(List.of(pg.tool("pg_ctl"), "-D", data.toString(), "-l", log.toString(), "-w", "-t", "60", "start"));
        try {
            ChildProcess.run(withSetsid(cmd), Map.of(), Duration.ofSeconds(75));
        } catch (StackException e) {
            throw failure("did not start: " + e.getMessage());
        }
        ChildProcess.writePid(ctx.layout().pidFile(name), postmasterPid(data));
    }

    private static List<String> withSetsid(List<String> cmd) {
        List<String> out = new ArrayList<>();
        out.add("setsid");
        out.addAll(cmd);
        return out;
    }

    private void initdb(PostgresBinaries pg, OsUser owner, Path data) throws IOException {
        Files.createDirectories(data);
        owner.chown(data);
        Path pwfile = data.getParent().resolve(name + ".pwfile");
        Files.writeString(pwfile, ctx.postgresPassword() + "\n");
        owner.chown(pwfile);
        try {
            List<String> cmd = new ArrayList<>(owner.prefix());
            cmd.addAll(List.of(pg.tool("initdb"), "-D", data.toString(), "-U", StackContext.PG_SUPERUSER,
                    "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8",
                    "--locale=C", "--no-instructions"));
            ChildProcess.run(cmd, Map.of(), Duration.ofMinutes(2));
        } finally {
            Files.deleteIfExists(pwfile);
        }
        // Settings the pipeline relies on: logical decoding on both sides (the target is the source of the
        // fallback stream after cutover), synchronous_commit=on (off adds ~200 ms CDC lag: STACK.md).
        String conf = String.join("\n",
                "",
                "# dbmigrate local stack",
                "listen_addresses = '127.0.0.1'",
                "port = " + port,
                "unix_socket_directories = ''",
                "wal_level = logical",
                "max_wal_senders = 20",
                "max_replication_slots = 20",
                "synchronous_commit = on",
                "max_connections = 200",
                "shared_buffers = 256MB",
                "max_slot_wal_keep_size = 10GB",
                "log_line_prefix = '%m [%p] %q%u@%d '",
                "");
        Files.writeString(data.resolve("postgresql.conf"), conf, java.nio.file.StandardOpenOption.APPEND);
    }

    private static long postmasterPid(Path data) {
        try {
            return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            throw new StackException("cannot read " + data.resolve("postmaster.pid") + ": " + e.getMessage());
        }
    }

    @Override
    protected String probe() throws Exception {
        Properties props = new Properties();
        props.setProperty("user", StackContext.PG_SUPERUSER);
        props.setProperty("password", ctx.postgresPassword());
        props.setProperty("connectTimeout", "3");
        props.setProperty("socketTimeout", "5");
        try (Connection c = DriverManager.getConnection(ctx.jdbcUrl(port), props);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('wal_level'), current_setting('server_version')")) {
            rs.next();
            String walLevel = rs.getString(1);
            if (logicalRequired && !"logical".equals(walLevel)) {
                throw new StackException("wal_level is " + walLevel + ", logical is required");
            }
            return "PostgreSQL " + rs.getString(2) + ", wal_level=" + walLevel;
        }
    }

    @Override
    protected Duration startTimeout() {
        return Duration.ofSeconds(60);
    }

    @Override
    public void stop() {
        Path data = dataDir();
        if (pid().isPresent() && Files.exists(data.resolve("PG_VERSION"))) {
            try {
                PostgresBinaries pg = PostgresBinaries.locate(ctx.layout().home());
                List<String> cmd = new ArrayList<>(OsUser.forPostgres().prefix());
                cmd.addAll(List.of(pg.tool("pg_ctl"), "-D", data.toString(), "-m", "fast", "-w", "-t", "30", "stop"));
                ChildProcess.run(cmd, Map.of(), Duration.ofSeconds(40));
            } catch (StackException e) {
                // fall through to signals on the recorded PID
            }
        }
        super.stop();
    }
}
