package io.dbmigrate.cli.demo;

import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.migration.Leftovers;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.cli.migrate.TemporalOptions;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.temporal.client.WorkflowClient;
import java.sql.SQLException;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The demo's world on the local stack: one database of the sample schema on each cluster, Connect, Temporal, the plan
 * and the live writer. Shared by {@code demo} and {@code bench faults}, which runs the same migration once per fault.
 */
public final class DemoSetup {
    public final Endpoint source;
    public final Endpoint target;
    public final ConnectClient connect;
    public final WorkflowClient temporal;
    private final int rows;

    private DemoSetup(StackContext ctx, String db, int rows) {
        String ref = "file:" + ctx.postgresPasswordFile();
        this.source = new Endpoint("127.0.0.1", ctx.ports().sourcePostgres(), db, "postgres", ref);
        this.target = new Endpoint("127.0.0.1", ctx.ports().targetPostgres(), db, "postgres", ref);
        this.connect = new ConnectClient("http://127.0.0.1:" + ctx.ports().connect());
        this.temporal = TemporalOptions.connect("127.0.0.1:" + ctx.ports().temporal(), "default");
        this.rows = rows;
    }

    /** Brings the stack up when any part of it is down, then addresses database {@code db} on both clusters. */
    public static DemoSetup on(LocalStack stack, String db, int rows, Consumer<String> progress) {
        if (!stack.status().healthy()) {
            progress.accept("bringing the local stack up ...");
            stack.up(progress);
        }
        return new DemoSetup(stack.context(), db, rows);
    }

    /** Drops and creates the database on both sides (with anything dbmigrate left in it), then loads the source. */
    public void recreate() throws SQLException {
        for (Endpoint e : List.of(source, target)) {
            Pg.exec(new Endpoint(e.host(), e.port(), "postgres", e.user(), e.passwordRef()), "dbmigrate-demo",
                    "DROP DATABASE IF EXISTS " + Sql.ident(e.database()) + " WITH (FORCE)",
                    "CREATE DATABASE " + Sql.ident(e.database()));
        }
        DemoSchema.load(source, rows);
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

    /** What dbmigrate still owns on either side and in Connect. */
    public List<String> leftovers() throws SQLException {
        return Leftovers.list(source, target, connect);
    }
}
