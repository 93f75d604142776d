package io.dbmigrate.pgbouncer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.cutover.PgBouncer;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.deploy.Component;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.it.ItPorts;
import io.dbmigrate.workflows.model.Endpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pgbouncer switch against a real PgBouncer (the stack's component) in front of two real PostgreSQL clusters:
 * only those three components of a stack of its own are started.
 */
class PgBouncerIT {
    static final Path ROOT = StackLayout.findRepoRoot(Path.of(""));
    // a block no other integration test uses (see ItPorts)
    static final StackPorts PORTS = ItPorts.block(23);
    static final String DB = "shop";
    static LocalStack stack;
    static PgBouncer admin;
    static Path databasesFile;

    @BeforeAll
    static void start() throws Exception {
        stack = new LocalStack(new StackLayout(ROOT.resolve("starter/target/it-pgbouncer"), ROOT), PORTS, "unused");
        Component bouncer = stack.component("pgbouncer");
        // CI installs pgbouncer: a missing binary is a broken machine here, not a reason to skip
        assertTrue(bouncer.skipped().isEmpty(), "PgBouncerIT needs a pgbouncer binary (apt-get install pgbouncer, or "
                + "DBMIGRATE_PGBOUNCER=/path/to/pgbouncer): " + bouncer.skipped().orElse(""));
        stack.context().layout().createDirectories();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stack.down(false, line -> {})));
        stack.context().postgresPassword();
        for (String c : List.of("source-postgres", "target-postgres", "pgbouncer")) {
            System.out.println("[pgbouncer-it] " + stack.component(c).start());
        }
        admin = new PgBouncer(stack.pgbouncerAdmin().orElseThrow());
        databasesFile = stack.pgbouncerDatabasesFile().orElseThrow();
        for (Endpoint e : List.of(cluster(PORTS.sourcePostgres(), "postgres"), cluster(PORTS.targetPostgres(), "postgres"))) {
            Pg.exec(e, "it", "DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)", "CREATE DATABASE " + DB);
            Pg.exec(new Endpoint(e.host(), e.port(), DB, e.user(), e.passwordRef()), "it",
                    "CREATE TABLE t (id bigserial PRIMARY KEY, port int NOT NULL, note text)");
        }
    }

    @AfterAll
    static void stop() {
        admin.close();
        stack.down(false, line -> System.out.println("[pgbouncer-it] " + line));
        assertTrue(stack.component("pgbouncer").pid().isEmpty(), "stack down stops PgBouncer");
    }

    static Endpoint cluster(int port, String db) {
        return new Endpoint("127.0.0.1", port, db, "postgres", "file:" + stack.context().postgresPasswordFile());
    }

    /** An application's long-lived connection through PgBouncer, as a pool would hold it. */
    static Connection client() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", stack.context().postgresPassword());
        p.setProperty("prepareThreshold", "0"); // PgBouncer 1.18 does not track server-side prepared statements
        p.setProperty("socketTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + PORTS.pgbouncer() + "/" + DB, p);
    }

    static int serverPort(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_setting('port')::int")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @BeforeEach
    void backToTheSource() throws SQLException {
        try (Connection c = client()) {
            serverPort(c); // PgBouncer lists a database taken from the * entry only once a client used it
        }
        admin.resume(DB);
        for (int port : new int[] {PORTS.sourcePostgres(), PORTS.targetPostgres()}) {
            Pg.exec(cluster(port, DB), "it", "TRUNCATE t");
        }
        admin.repoint(databasesFile, DB, cluster(PORTS.sourcePostgres(), DB));
    }

    @Test
    void writesGoOnThroughPauseRepointResumeAndLandOnTheTarget() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong worstNanos = new AtomicLong();
        AtomicLong written = new AtomicLong();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Connection c = client();
                    PreparedStatement ps = c.prepareStatement("INSERT INTO t (port, note) VALUES (current_setting('port')::int, ?)")) {
                while (running.get()) {
                    long t0 = System.nanoTime();
                    ps.setString(1, "w" + written.get());
                    ps.executeUpdate();
                    worstNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    written.incrementAndGet();
                    Thread.sleep(2);
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        Thread.sleep(500);
        long before = written.get();
        assertTrue(before > 10, "the writer writes through PgBouncer before the switch: " + before);

        long t0 = System.nanoTime();
        PgBouncer.Drain drain = admin.pause(DB, Duration.ofSeconds(5));
        long paused = System.nanoTime();
        assertTrue(drain.drained(), drain.toString());
        assertTrue(admin.repoint(databasesFile, DB, cluster(PORTS.targetPostgres(), DB)));
        long waitSample = admin.maxClientWaitMs(DB);
        assertTrue(admin.resume(DB));
        long resumed = System.nanoTime();

        Thread.sleep(500);
        running.set(false);
        writer.get(30, TimeUnit.SECONDS);
        assertEquals(null, failed.get(), "no statement of the writer failed");
        assertEquals(new PgBouncer.Location("127.0.0.1", PORTS.targetPostgres(), DB), admin.where(DB).orElseThrow());

        long onSource = count(PORTS.sourcePostgres());
        long onTarget = count(PORTS.targetPostgres());
        assertEquals(written.get(), onSource + onTarget, "every acknowledged write is on one of the clusters");
        assertTrue(onTarget > 10, "writes after the resume land on the target: " + onTarget);
        try (Connection c = client()) {
            assertEquals(PORTS.targetPostgres(), serverPort(c), "a new client is served by the target");
        }
        assertFalse(Files.readString(databasesFile).isEmpty());
        System.out.printf("[pgbouncer-it] switch: PAUSE %.1f ms, repoint+RELOAD+RESUME %.1f ms, total %.1f ms; "
                        + "maxwait sampled in the pause %d ms; worst writer statement %.1f ms; %d writes (%d source, %d target)%n",
                (paused - t0) / 1e6, (resumed - paused) / 1e6, (resumed - t0) / 1e6, waitSample, worstNanos.get() / 1e6,
                written.get(), onSource, onTarget);
    }

    static long count(int port) throws SQLException {
        try (Connection c = Pg.connect(cluster(port, DB), "it"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM t WHERE port = " + port)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aHeldTransactionTimesThePauseOutAndTrafficIsResumed() throws Exception {
        try (Connection holder = client()) {
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.executeUpdate("INSERT INTO t (port, note) VALUES (current_setting('port')::int, 'held')");
            }
            long t0 = System.nanoTime();
            PgBouncer.PauseTimeoutException e = assertThrows(PgBouncer.PauseTimeoutException.class,
                    () -> admin.pause(DB, Duration.ofMillis(800)));
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("[pgbouncer-it] held transaction: pause gave up after " + tookMs + " ms: " + e.getMessage());
            assertTrue(tookMs < 3000, "the pause is bounded: " + tookMs + " ms");
            assertTrue(e.getMessage().contains("a client holds a transaction open") && e.getMessage().contains("traffic was resumed"),
                    e.getMessage());
            assertEquals(1, e.holders().size(), e.holders().toString());
            assertFalse(admin.paused(DB));
            // a new client is served at once, and the holder can finish its transaction
            CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> {
                try (Connection c = client()) {
                    return serverPort(c);
                } catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            assertEquals(PORTS.sourcePostgres(), other.get(5, TimeUnit.SECONDS));
            holder.commit();
        }
        assertEquals(new PgBouncer.Location("127.0.0.1", PORTS.sourcePostgres(), DB), admin.where(DB).orElseThrow(),
                "nothing was repointed");
        // and the next pause, with nobody holding a transaction, succeeds
        assertTrue(admin.pause(DB, Duration.ofSeconds(5)).drained());
        assertTrue(admin.resume(DB));
    }

    @Test
    void repointIsIdempotent() throws Exception {
        Endpoint target = cluster(PORTS.targetPostgres(), DB);
        assertTrue(admin.repoint(databasesFile, DB, target));
        String once = Files.readString(databasesFile);
        long modified = Files.getLastModifiedTime(databasesFile).toMillis();
        assertFalse(admin.repoint(databasesFile, DB, target), "repointing to where it points changes nothing");
        assertEquals(once, Files.readString(databasesFile));
        assertEquals(modified, Files.getLastModifiedTime(databasesFile).toMillis());
        assertTrue(once.contains("* = host=127.0.0.1 port=" + PORTS.sourcePostgres()), "other lines are kept:\n" + once);
        assertFalse(admin.resume(DB), "RESUME of a database that is not paused is not an error");
        try (Connection c = client()) {
            assertEquals(PORTS.targetPostgres(), serverPort(c));
        }
    }

    @Test
    void aHostileDatabaseNameIsRefused() {
        for (String bad : List.of("shop; SHUTDOWN", "shop\nSHUTDOWN", "\"shop\"", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> admin.pause(bad, Duration.ofSeconds(1)));
            assertTrue(e.getMessage().contains("PgBouncer") && e.getMessage().contains("refused"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> admin.repoint(databasesFile, bad, cluster(PORTS.targetPostgres(), DB)));
            assertThrows(IllegalArgumentException.class, () -> admin.resume(bad));
        }
        assertTrue(admin.version().startsWith("PgBouncer"), "PgBouncer still runs");
    }
}
