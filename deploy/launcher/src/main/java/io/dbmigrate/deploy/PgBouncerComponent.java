package io.dbmigrate.deploy;

import io.dbmigrate.activities.cutover.PgBouncer;
import io.dbmigrate.workflows.model.Endpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * PgBouncer in front of the source, so that applications of the demo and the tests can be switched to the target by
 * the {@code pgbouncer} cutover strategy. Optional: without a pgbouncer binary ({@code DBMIGRATE_PGBOUNCER},
 * {@code /usr/sbin/pgbouncer}, or PATH) the component is skipped.
 *
 * <p>PgBouncer refuses to run as root, so it runs as the PostgreSQL clusters' OS user, in the foreground (the stack
 * records its PID and its output is its log). Its configuration lives in a directory of its own that this user owns;
 * the worker, which rewrites databases.ini at the switch, runs as the invoking user (root in CI, else that same user),
 * so both can write there.
 */
public final class PgBouncerComponent extends Component {
    public static final String BINARY_ENV = "DBMIGRATE_PGBOUNCER";
    /** The admin console's database name, fixed by PgBouncer. */
    public static final String ADMIN_DATABASE = "pgbouncer";

    public PgBouncerComponent(StackContext ctx) {
        super("pgbouncer", ctx);
    }

    @Override
    public String address() {
        return "postgresql://127.0.0.1:" + ctx.ports().pgbouncer() + "/" + ADMIN_DATABASE;
    }

    /** The admin console as a plan names it: the stack's superuser is PgBouncer's admin user. */
    public Endpoint adminEndpoint() {
        return new Endpoint("127.0.0.1", ctx.ports().pgbouncer(), ADMIN_DATABASE, StackContext.PG_SUPERUSER,
                "file:" + ctx.postgresPasswordFile());
    }

    @Override
    public Optional<String> skipped() {
        return binary().isPresent() ? Optional.empty() : Optional.of("no pgbouncer binary (set " + BINARY_ENV
                + ", or install it: apt-get install pgbouncer); the pgbouncer cutover strategy cannot be tried on this stack");
    }

    /** The binary: {@code $DBMIGRATE_PGBOUNCER}, else Debian's {@code /usr/sbin/pgbouncer}, else the first on PATH. */
    static Optional<Path> binary() {
        return InstalledBinary.find(BINARY_ENV, Path.of("/usr/sbin/pgbouncer"), "pgbouncer");
    }

    private Path socketDir() {
        return ctx.layout().home().resolve("run").resolve("pgbouncer");
    }

    @Override
    protected void launch() {
        Path bin = binary().orElseThrow(() -> new StackException(name + ": " + skipped().orElse("")));
        OsUser owner = OsUser.forPostgres();
        Path dir = ctx.pgbouncerConfDir();
        Path ini = dir.resolve("pgbouncer.ini");
        try {
            Files.createDirectories(dir);
            Files.createDirectories(socketDir());
            Path databases = ctx.pgbouncerDatabasesFile();
            if (!Files.exists(databases)) {
                // kept across restarts: after a switch the worker's entry points at the target and must stay there
                Files.writeString(databases, "[databases]\n; every database name goes to the source unless named below\n"
                        + "* = host=127.0.0.1 port=" + ctx.ports().sourcePostgres() + "\n");
            }
            Path userlist = dir.resolve("userlist.txt");
            Files.deleteIfExists(userlist);
            Files.createFile(userlist, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(userlist, quoted(StackContext.PG_SUPERUSER) + " " + quoted(ctx.postgresPassword()) + "\n");
            Files.writeString(ini, String.join("\n",
                    "; written by `stack up` at every start; the [databases] entries live in the included file",
                    "%include " + databases,
                    "",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    "listen_port = " + ctx.ports().pgbouncer(),
                    "unix_socket_dir = " + socketDir(),
                    "auth_type = scram-sha-256",
                    "auth_file = " + userlist,
                    "admin_users = " + StackContext.PG_SUPERUSER,
                    // transaction pooling: PAUSE completes between transactions; in session pooling it waits for
                    // every client to disconnect (docs/pgbouncer.md)
                    "pool_mode = transaction",
                    // pgjdbc sends extra_float_digits; Pg sends statement_timeout through options
                    "ignore_startup_parameters = extra_float_digits,options",
                    "max_client_conn = 500",
                    "default_pool_size = 20",
                    ""));
            owner.chown(dir);
            owner.chown(socketDir());
            Files.createDirectories(ctx.layout().logs());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write PgBouncer's configuration in " + dir, e);
        }
        PortCheck.requireFree(ctx.ports().pgbouncer(), name);
        List<String> cmd = new ArrayList<>(owner.prefix());
        cmd.addAll(List.of(bin.toString(), ini.toString()));
        ChildProcess.spawn(cmd, Map.of(), ctx.layout().log(name), ctx.layout().pidFile(name));
    }

    /** userlist.txt quoting: the value in double quotes, a double quote doubled. */
    private static String quoted(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    @Override
    protected String probe() {
        try (PgBouncer admin = new PgBouncer(adminEndpoint())) {
            return admin.version() + ", admin console answers";
        }
    }

    @Override
    protected java.time.Duration startTimeout() {
        return java.time.Duration.ofSeconds(20);
    }
}
