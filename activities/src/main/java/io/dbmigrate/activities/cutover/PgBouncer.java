package io.dbmigrate.activities.cutover;

import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.SecretRef;
import io.dbmigrate.workflows.model.Endpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * PgBouncer's admin console: pause a database's clients, point the database at another server, resume.
 *
 * <p>The console is reached through {@link AdminConsole}, not pgjdbc (which current PgBouncer releases refuse: see
 * there). One console connection is kept open (a login costs milliseconds, all of them spent inside the pause);
 * {@code PAUSE} runs on a second one because it blocks. Database names are passed unquoted (the console has no quoting), so they are validated against
 * {@code [A-Za-z0-9_.-]+} and anything else is refused.
 */
public final class PgBouncer implements AutoCloseable {
    /** Where PgBouncer sends a database's server connections, as {@code SHOW DATABASES} reports it. */
    public record Location(String host, int port, String dbname) {
        public String describe() {
            return host + ":" + port + "/" + dbname;
        }
    }

    /**
     * A database's pools from {@code SHOW POOLS}, summed over users. {@code maxWaitMs}: how long the longest-waiting
     * client has been waiting for a server right now.
     */
    public record Drain(String database, int clientsActive, int clientsWaiting, int serversActive, int serversIdle,
            int serversUsed, long maxWaitMs) {
        public boolean drained() {
            return serversActive == 0;
        }
    }

    /** Anything PgBouncer refused or did not do; the message names PgBouncer and the database. */
    public static class PgBouncerException extends RuntimeException {
        public PgBouncerException(String message, Throwable cause) {
            super(message, cause);
        }

        public PgBouncerException(String message) {
            super(message);
        }
    }

    /** PAUSE did not complete in time because clients kept transactions open; traffic was resumed. */
    public static final class PauseTimeoutException extends PgBouncerException {
        private final List<String> holders;

        PauseTimeoutException(String message, List<String> holders) {
            super(message);
            this.holders = List.copyOf(holders);
        }

        /** The clients that held a server connection when the pause gave up, one description each. */
        public List<String> holders() {
            return holders;
        }
    }

    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);

    private final Endpoint admin;
    private AdminConsole console;

    public PgBouncer(Endpoint admin) {
        this.admin = admin;
    }

    public String describe() {
        return "PgBouncer at " + admin.host() + ":" + admin.port();
    }

    /** {@code SHOW VERSION}, e.g. "PgBouncer 1.18.0". */
    public String version() {
        return rows("SHOW VERSION", null).get(0).values().iterator().next();
    }

    /**
     * {@code PAUSE db}: new transactions of the database wait in PgBouncer, and the call returns once every server
     * connection of the database is released (and closed). When that takes longer than {@code timeout} a client holds
     * a transaction open: the database is resumed from the kept console connection (a PAUSE stays pending in PgBouncer
     * even after RESUME, so its connection is dropped) and {@link PauseTimeoutException} names the clients.
     */
    public Drain pause(String db, Duration timeout) {
        DatabasesFragment.requireName(db, "the database name");
        console(); // opened before the pause: the resume after a timeout must not wait for a login
        ExecutorService runner = Executors.newSingleThreadExecutor(Parallel.daemon("pgbouncer-pause-" + db));
        if (paused(db)) {
            // PgBouncer refuses a second PAUSE; an earlier attempt paused it already, so only the drain is left to check
            return awaitDrained(db, timeout);
        }
        AdminConsole pauser = open();
        try {
            pauser.readTimeout(timeout.plus(SOCKET_TIMEOUT));
            Future<?> done = runner.submit(() -> pauser.query("PAUSE " + db));
            try {
                done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                List<String> holders = holders(db);
                boolean resumed = tryResume(db);
                pauser.abort();
                throw new PauseTimeoutException(describe() + ": PAUSE " + db + " did not complete within "
                        + timeout.toMillis() + " ms: a client holds a transaction open"
                        + (holders.isEmpty() ? "" : " (" + String.join("; ", holders) + ")")
                        + (resumed ? "; traffic was resumed (RESUME " + db + "), nothing was switched"
                                : "; RESUME " + db + " FAILED: clients of " + db + " may be waiting, run RESUME " + db
                                        + " on the admin console"), holders);
            } catch (ExecutionException e) {
                throw new PgBouncerException(describe() + " refused PAUSE " + db + ": " + message(e.getCause()), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                tryResume(db);
                throw new PgBouncerException(describe() + ": interrupted while pausing " + db + "; resumed", e);
            }
        } catch (IOException e) {
            throw new PgBouncerException(describe() + ": cannot pause " + db + ": " + e.getMessage(), e);
        } finally {
            runner.shutdownNow();
            pauser.close();
        }
        Drain d = drain(db);
        if (!d.drained()) {
            d = awaitDrained(db, Duration.ofSeconds(1));
        }
        return d;
    }

    private Drain awaitDrained(String db, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Drain d = drain(db);
        while (!d.drained() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            d = drain(db);
        }
        if (!d.drained()) {
            // PAUSE returned but a server is still active: do not switch on it
            tryResume(db);
            throw new PgBouncerException(describe() + ": PAUSE " + db + " returned but SHOW POOLS still shows "
                    + d.serversActive() + " active server connection(s); resumed, nothing was switched");
        }
        return d;
    }

    /** The database's pools now ({@code SHOW POOLS}); all zero when PgBouncer has no pool for it yet. */
    public Drain drain(String db) {
        DatabasesFragment.requireName(db, "the database name");
        int clActive = 0, clWaiting = 0, svActive = 0, svIdle = 0, svUsed = 0;
        long maxWaitMs = 0;
        for (Map<String, String> r : rows("SHOW POOLS", db)) {
            if (!db.equals(r.get("database"))) {
                continue;
            }
            clActive += intOf(r, "cl_active");
            clWaiting += intOf(r, "cl_waiting");
            svActive += intOf(r, "sv_active");
            svIdle += intOf(r, "sv_idle");
            svUsed += intOf(r, "sv_used");
            long wait = intOf(r, "maxwait") * 1000L + intOf(r, "maxwait_us") / 1000L;
            maxWaitMs = Math.max(maxWaitMs, wait);
        }
        return new Drain(db, clActive, clWaiting, svActive, svIdle, svUsed, maxWaitMs);
    }

    /** The longest a client of {@code db} is waiting for a server right now, in milliseconds. */
    public long maxClientWaitMs(String db) {
        return drain(db).maxWaitMs();
    }

    /** {@code RESUME db}; true when the database was paused, false when it was not (which is not an error here). */
    public boolean resume(String db) {
        DatabasesFragment.requireName(db, "the database name");
        try {
            console().query("RESUME " + db);
            return true;
        } catch (AdminConsole.ServerError e) {
            if (String.valueOf(e.getMessage()).contains("not paused")) {
                return false;
            }
            throw new PgBouncerException(describe() + " refused RESUME " + db + ": " + e.getMessage(), e);
        } catch (IOException e) {
            dropConsole();
            throw new PgBouncerException(describe() + " refused RESUME " + db + ": " + e.getMessage(), e);
        }
    }

    /** Whether PgBouncer holds {@code db} paused ({@code SHOW DATABASES}). */
    public boolean paused(String db) {
        DatabasesFragment.requireName(db, "the database name");
        return rows("SHOW DATABASES", db).stream().anyMatch(r -> db.equals(r.get("name")) && "1".equals(r.get("paused")));
    }

    /**
     * Where {@code db}'s server connections go ({@code SHOW DATABASES}); empty when PgBouncer lists no such database
     * (not configured, or not yet created from a {@code *} fallback entry).
     */
    public Optional<Location> where(String db) {
        DatabasesFragment.requireName(db, "the database name");
        for (Map<String, String> r : rows("SHOW DATABASES", db)) {
            if (db.equals(r.get("name"))) {
                String port = r.get("port");
                return Optional.of(new Location(r.get("host"), port == null || port.isEmpty() ? 0 : Integer.parseInt(port),
                        r.get("database")));
            }
        }
        return Optional.empty();
    }

    /**
     * Points {@code db} at {@code to} ({@code host=… port=… dbname=…}): the databases file is rewritten atomically
     * (other lines kept), PgBouncer reloads it, and {@code SHOW DATABASES} must then show the new destination. Server
     * connections to the old destination are closed by PgBouncer when released (a paused database has none); any
     * still not marked for closing get {@code RECONNECT}. Returns false, having changed nothing, when the file and
     * PgBouncer already point there.
     */
    public boolean repoint(Path databasesFile, String db, Endpoint to) {
        DatabasesFragment.requireName(db, "the database name");
        String value = DatabasesFragment.entryValue(to.host(), to.port(), to.database());
        Location wanted = new Location(to.host(), to.port(), to.database());
        String before;
        try {
            before = Files.exists(databasesFile) ? Files.readString(databasesFile) : "";
        } catch (IOException e) {
            throw new PgBouncerException(describe() + ": cannot read its databases file " + databasesFile + " to repoint "
                    + db + ": " + e.getMessage(), e);
        }
        String after = DatabasesFragment.withEntry(before, db, value);
        if (after.equals(before) && where(db).filter(wanted::equals).isPresent()) {
            return false;
        }
        if (!after.equals(before)) {
            writeAtomically(databasesFile, after, db);
        }
        command("RELOAD", db);
        Location now = where(db).orElseThrow(() -> new PgBouncerException(describe() + " lists no database " + db
                + " after RELOAD of " + databasesFile + "; see PgBouncer's log"));
        if (!now.equals(wanted)) {
            throw new PgBouncerException(describe() + " still points " + db + " at " + now.describe() + " after RELOAD, not at "
                    + wanted.describe() + ": PgBouncer keeps the old entry when it cannot use the new one; see its log and "
                    + databasesFile);
        }
        if (!staleServers(db, to).isEmpty()) {
            command("RECONNECT " + db, db);
        }
        return true;
    }

    /** Server connections of {@code db} not going to {@code to} that PgBouncer has not marked for closing. */
    List<String> staleServers(String db, Endpoint to) {
        boolean literal = to.host().matches("[0-9.]+|[0-9a-fA-F:]+");
        List<String> out = new ArrayList<>();
        for (Map<String, String> r : rows("SHOW SERVERS", db)) {
            if (!db.equals(r.get("database")) || "1".equals(r.get("close_needed"))) {
                continue;
            }
            boolean samePort = String.valueOf(to.port()).equals(r.get("port"));
            if (!samePort || (literal && !to.host().equals(r.get("addr")))) {
                out.add(r.get("addr") + ":" + r.get("port"));
            }
        }
        return out;
    }

    /** The clients of {@code db} that hold a server connection, with their address and application. */
    List<String> holders(String db) {
        try {
            Map<String, Map<String, String>> clients = new LinkedHashMap<>();
            for (Map<String, String> c : rows("SHOW CLIENTS", db)) {
                clients.put(c.get("ptr"), c);
            }
            List<String> out = new ArrayList<>();
            for (Map<String, String> s : rows("SHOW SERVERS", db)) {
                if (!db.equals(s.get("database")) || !"active".equals(s.get("state"))) {
                    continue;
                }
                Map<String, String> c = clients.get(s.get("link"));
                String who = c == null ? "a client" : "client " + c.get("addr") + ":" + c.get("port")
                        + " (user " + c.get("user")
                        + (c.get("application_name") == null || c.get("application_name").isEmpty() ? ""
                                : ", application " + c.get("application_name")) + ")";
                out.add(who + " on server " + s.get("addr") + ":" + s.get("port") + " since " + s.get("request_time"));
            }
            return out;
        } catch (PgBouncerException e) {
            return List.of(); // the diagnosis must not hide the timeout
        }
    }

    private boolean tryResume(String db) {
        try {
            resume(db);
            return true;
        } catch (PgBouncerException e) {
            return false;
        }
    }

    private void command(String sql, String db) {
        try {
            console().query(sql);
        } catch (IOException e) {
            dropConsole();
            throw new PgBouncerException(describe() + " refused " + sql + " (switching " + db + "): " + e.getMessage(), e);
        }
    }

    /** Every row of an admin console SHOW command, column name to text. */
    private List<Map<String, String>> rows(String sql, String db) {
        try {
            AdminConsole.Result r = console().query(sql);
            List<Map<String, String>> out = new ArrayList<>();
            for (List<String> values : r.rows()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 0; i < r.columns().size(); i++) {
                    row.put(r.columns().get(i), values.get(i));
                }
                out.add(row);
            }
            return out;
        } catch (IOException e) {
            dropConsole();
            throw new PgBouncerException(describe() + ": " + sql + " failed" + (db == null ? "" : " (database " + db + ")")
                    + ": " + e.getMessage(), e);
        }
    }

    private static int intOf(Map<String, String> row, String column) {
        String v = row.get(column);
        return v == null || v.isEmpty() ? 0 : Integer.parseInt(v);
    }

    private void writeAtomically(Path file, String text, String db) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            Files.writeString(tmp, text);
            if (Files.exists(file)) {
                // PgBouncer may run as another OS user than the worker: keep the file's owner and mode
                PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class);
                PosixFileAttributeView v = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
                v.setPermissions(a.permissions());
                try {
                    v.setOwner(a.owner());
                } catch (IOException notPermitted) {
                    // a worker that is not root writes as the file's owner anyway
                }
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | UnsupportedOperationException e) {
            try {
                if (tmp != null) {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException ignored) {
                // the original file is untouched either way
            }
            throw new PgBouncerException(describe() + ": cannot rewrite its databases file " + file + " to repoint " + db
                    + " (the worker must be able to write there): " + e, e);
        }
    }

    private synchronized AdminConsole console() {
        if (console == null) {
            console = open();
        }
        return console;
    }

    /** After an I/O error the connection's state is unknown: the next command opens a new one. */
    private synchronized void dropConsole() {
        if (console != null) {
            console.close();
            console = null;
        }
    }

    private AdminConsole open() {
        try {
            return AdminConsole.open(admin.host(), admin.port(), admin.database(), admin.user(),
                    SecretRef.resolve(admin.passwordRef()), Pg.CONNECT_TIMEOUT, SOCKET_TIMEOUT);
        } catch (IOException e) {
            throw new PgBouncerException("cannot reach the admin console of " + describe() + " (database " + admin.database()
                    + ", user " + admin.user() + "): " + e.getMessage(), e);
        }
    }

    private static String message(Throwable t) {
        return t == null ? "" : String.valueOf(t.getMessage());
    }

    @Override
    public synchronized void close() {
        dropConsole();
    }
}
