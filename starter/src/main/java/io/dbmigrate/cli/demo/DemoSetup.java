package io.dbmigrate.cli.demo;

import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.cutover.PgBouncer;
import io.dbmigrate.activities.migration.Leftovers;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.cli.migrate.TemporalOptions;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationId;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.temporal.client.WorkflowClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The demo's world on the local stack: one database of the sample schema on each cluster, Connect, Temporal, the plan
 * and the live writer. Shared by {@code demo}, {@code bench faults}, which runs the same migration once per fault, and
 * {@code bench snapshot}, which migrates data of its own.
 */
public final class DemoSetup {
    public final Endpoint source;
    public final Endpoint target;
    public final ConnectClient connect;
    public final WorkflowClient temporal;
    /** The stack's PgBouncer, when the machine has one: the application connects through it. */
    public final Optional<MigrationPlan.PgBouncerOptions> pgbouncer;
    /** The database as the application sees it through PgBouncer. */
    public final Optional<Endpoint> viaPgBouncer;
    private final int rows;

    private DemoSetup(LocalStack stack, String db, int rows) {
        StackContext ctx = stack.context();
        String ref = "file:" + ctx.postgresPasswordFile();
        this.source = new Endpoint("127.0.0.1", ctx.ports().sourcePostgres(), db, "postgres", ref);
        this.target = new Endpoint("127.0.0.1", ctx.ports().targetPostgres(), db, "postgres", ref);
        this.connect = new ConnectClient("http://127.0.0.1:" + ctx.ports().connect());
        this.temporal = TemporalOptions.connect("127.0.0.1:" + ctx.ports().temporal(), "default",
                TemporalOptions.localStackKeys(ctx));
        this.pgbouncer = stack.pgbouncerAdmin().map(admin -> new MigrationPlan.PgBouncerOptions(admin, db,
                stack.pgbouncerDatabasesFile().orElseThrow().toString()));
        this.viaPgBouncer = stack.pgbouncerPort().map(port -> new Endpoint("127.0.0.1", port, db, "postgres", ref));
        this.rows = rows;
    }

    /** Brings the stack up when any part of it is down, then addresses database {@code db} on both clusters. */
    public static DemoSetup on(LocalStack stack, String db, int rows, Consumer<String> progress) {
        if (!stack.status().healthy()) {
            progress.accept("bringing the local stack up ...");
            stack.up(progress);
        }
        return new DemoSetup(stack, db, rows);
    }

    /**
     * The cutover: through PgBouncer when the stack has it (unless {@code strategy} says fence), else the fence. An
     * explicit {@code pgbouncer} without PgBouncer installed is refused.
     */
    public MigrationPlan.CutoverOptions cutover(String strategy, int fallbackWindowMinutes) {
        boolean bouncer = strategy == null ? pgbouncer.isPresent() : strategy.equals(MigrationPlan.CutoverOptions.PGBOUNCER);
        if (bouncer && pgbouncer.isEmpty()) {
            throw new IllegalArgumentException("--strategy pgbouncer: this machine has no pgbouncer binary (Debian: apt-get "
                    + "install pgbouncer; or DBMIGRATE_PGBOUNCER=/path/to/pgbouncer), so the stack runs none");
        }
        return bouncer ? new MigrationPlan.CutoverOptions(30, 5, MigrationPlan.CutoverOptions.PGBOUNCER, pgbouncer.get(),
                fallbackWindowMinutes) : new MigrationPlan.CutoverOptions(30, 5, MigrationPlan.CutoverOptions.FENCE, null,
                        fallbackWindowMinutes);
    }

    /** Drops and creates the database on both sides (with anything dbmigrate left in it), then loads the source. */
    public void recreate() throws SQLException {
        recreate(source);
        recreate(target);
        DemoSchema.load(source, rows);
        // an earlier run may have left PgBouncer pointing at the target, or paused
        pgbouncer.ifPresent(o -> {
            try (PgBouncer b = new PgBouncer(o.admin())) {
                b.repoint(Path.of(o.databasesFile()), o.database(), source);
                b.resume(o.database());
            }
        });
    }

    /** Drops and creates the database of one side, empty (with anything dbmigrate left in it). */
    public static void recreate(Endpoint e) throws SQLException {
        Pg.exec(new Endpoint(e.host(), e.port(), "postgres", e.user(), e.passwordRef()), "dbmigrate-demo",
                "DROP DATABASE IF EXISTS " + Sql.ident(e.database()) + " WITH (FORCE)",
                "CREATE DATABASE " + Sql.ident(e.database()));
    }

    /** The demo's plan: its thresholds and cutover options; approval {@code auto} or {@code manual}. */
    public MigrationPlan plan(String migrationId, String approval, String faultInjection, int validationChunkRows) {
        return new MigrationPlan(migrationId, source, target, List.of("public"), null,
                new MigrationPlan.Thresholds(5.0, 64L * 1024 * 1024, validationChunkRows), approval,
                MigrationPlan.CutoverOptions.defaults(), faultInjection, null);
    }

    /** The application, not started yet; {@code cutoverDone} says whether to move to the target after a refused write. */
    public DemoWriter writer(int writesPerSec, BooleanSupplier cutoverDone) {
        return new DemoWriter(source, target, writesPerSec, DemoSchema.customers(rows), DemoSchema.documents(rows), cutoverDone);
    }

    /**
     * The application connected through PgBouncer: it never changes its connection, PgBouncer moves it. PgBouncer 1.18
     * in transaction pooling does not track protocol-level prepared statements, so pgjdbc must not use them.
     */
    public DemoWriter writerViaPgBouncer(int writesPerSec) {
        Endpoint app = viaPgBouncer.orElseThrow();
        return new DemoWriter(app, app, writesPerSec, DemoSchema.customers(rows), DemoSchema.documents(rows), () -> false)
                .withDriverOptions(java.util.Map.of("prepareThreshold", "0"));
    }

    /**
     * What an abandoned run leaves that would stop the next one: the connectors and replication slots of migrations
     * whose id starts with {@code idPrefix} (a database with a slot cannot be dropped). Publications, schemas and
     * fences go with the database that {@link #recreate} drops.
     */
    public void removeByHand(String idPrefix, Consumer<String> info) {
        try {
            for (String name : connect.list()) {
                if (name.startsWith(MigrationId.objectName(idPrefix))) {
                    connect.deleteWithOffsets(name);
                }
            }
        } catch (RuntimeException e) {
            info.accept("could not remove connectors: " + e.getMessage());
        }
        String slots = "FROM pg_replication_slots WHERE slot_name LIKE ? AND database = current_database()";
        String pattern = MigrationId.objectName(idPrefix).replace("_", "\\_") + "%";
        for (Endpoint e : List.of(source, target)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try (Connection c = Pg.connect(e, "dbmigrate-demo")) {
                    if (!Pg.exists(c, "SELECT 1 " + slots, pattern)) {
                        break;
                    }
                    Pg.exists(c, "SELECT pg_terminate_backend(active_pid) " + slots + " AND active_pid IS NOT NULL", pattern);
                    Pg.exists(c, "SELECT pg_drop_replication_slot(slot_name) " + slots + " AND NOT active", pattern);
                } catch (SQLException ex) {
                    if ("3D000".equals(ex.getSQLState())) {
                        break; // no such database yet
                    }
                    if (System.nanoTime() > deadline) {
                        info.accept("could not drop the slots on " + e.describe() + ": " + ex.getMessage());
                        break;
                    }
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** What dbmigrate still owns on either side and in Connect. */
    public List<String> leftovers() throws SQLException {
        return Leftovers.list(source, target, connect);
    }
}
