package io.dbmigrate.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.cli.migrate.MigrationCommands;
import io.dbmigrate.cli.migrate.Watch;
import io.dbmigrate.cli.migrate.WorkerAnswers;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.PhaseTiming;
import io.dbmigrate.workflows.model.PlanValidator;
import io.temporal.client.WorkflowClient;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The main job on the local stack: a full migration while an application keeps writing, then a check of every write. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Brings the local stack up, creates and loads a sample schema on the source, runs a live writer, "
                + "migrates with auto-approval, cuts over, moves the writer to the target and verifies every acknowledged write.")
public final class DemoCommand implements Callable<Integer> {
    static final String DB = "dbmigrate_demo";
    static final String MIGRATION = "demo";
    /** How long the demo keeps watching while no worker answers its status query before it gives up. */
    static final java.time.Duration NO_WORKER_GIVE_UP = java.time.Duration.ofMinutes(2);

    @Mixin StackOptions stackOptions;
    @Spec CommandSpec spec;
    @Option(names = "--rows", defaultValue = "100000", description = "Rows to load before migrating (default ${DEFAULT-VALUE}).") int rows;
    @Option(names = "--writes-per-sec", defaultValue = "200", description = "Live writer transactions/s (default ${DEFAULT-VALUE}).") int writesPerSec;
    @Option(names = "--fail-at", paramLabel = "PHASE", description = "Inject a failure in preflight, prepare, snapshot, validation or cutover; the run must end rolled back.") String failAt;
    @Option(names = "--json", description = "Last line of stdout: one JSON object with the results.") boolean json;
    @Option(names = "--rollback-after-cutover", description = "After the switch, write to the target for a while, then "
            + "roll back during the fallback window: every write acknowledged on the target must be on the source.") boolean rollbackAfterCutover;
    @Option(names = "--strategy", paramLabel = "fence|pgbouncer", description = "The cutover's traffic switch (default: "
            + "pgbouncer when the stack runs PgBouncer, else fence).") String strategy;
    @Option(names = "--fallback-window-minutes", defaultValue = "10", description = "The plan's fallback window (default "
            + "${DEFAULT-VALUE}); the demo ends it itself with finalize (or rollback) a few seconds after the switch.") int windowMinutes;

    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        if (failAt != null && !PlanValidator.PHASES.contains(failAt)) {
            throw new IllegalArgumentException("--fail-at must be one of " + PlanValidator.PHASES);
        }
        long t0 = System.nanoTime();
        LocalStack stack = stackOptions.stack(null);
        DemoSetup demo = DemoSetup.on(stack, DB, rows, this::info);
        StackContext ctx = stack.context();
        Endpoint source = demo.source;
        Endpoint target = demo.target;
        WorkflowClient client = demo.temporal;

        info("creating " + DB + " on source and target, loading " + rows + " rows into the source ...");
        demo.recreate();

        String workflowId = "migration-" + MIGRATION;
        if (strategy != null && !strategy.equals(MigrationPlan.CutoverOptions.FENCE) && !strategy.equals(MigrationPlan.CutoverOptions.PGBOUNCER)) {
            throw new IllegalArgumentException("--strategy must be fence or pgbouncer");
        }
        if (rollbackAfterCutover && windowMinutes < 1) {
            throw new IllegalArgumentException("--rollback-after-cutover needs a fallback window (--fallback-window-minutes >= 1)");
        }
        MigrationPlan.CutoverOptions cutover = demo.cutover(strategy, windowMinutes);
        MigrationPlan plan = demo.plan(MIGRATION, "auto", failAt, 10_000).withCutover(cutover);
        boolean bouncer = cutover.viaPgBouncer();
        info("cutover strategy " + cutover.strategy() + (bouncer ? " (the application connects through PgBouncer at "
                + demo.viaPgBouncer.get().describe() + ")" : demo.pgbouncer.isEmpty()
                        ? " (no PgBouncer on this machine: the application switches its own connection when the source refuses writes)"
                        : "") + ", fallback window " + windowMinutes + " min");
        DemoWriter writer = bouncer ? demo.writerViaPgBouncer(writesPerSec) : demo.writer(writesPerSec, () -> {
            try {
                MigrationStatus s = MigrationCommands.status(client, workflowId);
                return s != null && s.cutover() != null;
            } catch (WorkerAnswers.NoWorkerAnswer e) {
                return false; // asked again at its next refused write
            }
        });
        writer.start();
        info("live writer running at " + writesPerSec + " transactions/s; starting migration " + workflowId
                + (failAt == null ? "" : " with a failure injected at " + failAt));

        MigrationCommands.startMigration(client, plan);
        stack.prometheusUrl().ifPresent(url -> info("watch it live in Prometheus: " + url + "/graph (dashboard: "
                + "deploy/monitoring/dashboard.json, docs/monitoring.md)"));
        MigrationStatus status;
        double lagP99 = Double.NaN;
        java.util.TreeMap<Double, Long> streamingStart = null;
        String lastLine = null;
        boolean decided = false;
        long unansweredSince = 0;
        while (true) {
            try {
                status = MigrationCommands.status(client, workflowId);
                unansweredSince = 0;
            } catch (WorkerAnswers.NoWorkerAnswer e) {
                // a busy worker (a cold JVM, a loaded machine) answers late: keep watching like `watch` does, and give
                // up with the server's view only when none has answered for a while
                long now = System.nanoTime();
                if (unansweredSince == 0) {
                    unansweredSince = now;
                    info("[waiting for a worker] " + e.getMessage());
                } else if (now - unansweredSince > NO_WORKER_GIVE_UP.toNanos()) {
                    throw e;
                }
                Thread.sleep(1000);
                continue;
            }
            if (status != null) {
                String line = Watch.render(status, null);
                if (!line.equals(lastLine)) {
                    info(line);
                    lastLine = line;
                }
                // streaming lag: transactions applied after the catch-up, until the cutover fences the source
                boolean streaming = status.phase() == MigrationStatus.Phase.VALIDATION || status.phase() == MigrationStatus.Phase.APPROVAL;
                if (streaming && streamingStart == null) {
                    streamingStart = lagBuckets(ctx.ports().workerHttp());
                } else if (streaming) {
                    double p99 = p99Between(streamingStart, lagBuckets(ctx.ports().workerHttp()));
                    lagP99 = Double.isNaN(p99) ? lagP99 : p99;
                }
                if (status.phase() == MigrationStatus.Phase.FALLBACK && !decided) {
                    decided = true;
                    decideWindow(client, workflowId, writer);
                    continue;
                }
                if (status.state() == MigrationStatus.State.COMPLETED || status.state() == MigrationStatus.State.ROLLED_BACK
                        || status.state() == MigrationStatus.State.ROLLED_BACK_AFTER_CUTOVER
                        || status.state() == MigrationStatus.State.FAILED) {
                    break;
                }
            }
            Thread.sleep(200);
        }
        status = MigrationCommands.result(client, workflowId);
        // the writer switches on its first refused write after the cutover; finish makes sure it has
        boolean completed = status.state() == MigrationStatus.State.COMPLETED;
        long lost = bouncer ? writer.finish(completed, completed ? target : source) : writer.finish(completed);
        List<String> leftovers = demo.leftovers();
        Boolean sourceRefusesWrites = status.state() == MigrationStatus.State.COMPLETED ? refusesWrites(source) : null;

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("migrationId", MIGRATION);
        r.put("status", status.state().name());
        r.put("tables", status.tables().size());
        // counted now: the frozen validation re-reads only the keys changed since the live pass, not whole tables
        r.put("rowsSource", count(source));
        r.put("rowsTarget", status.state() == MigrationStatus.State.COMPLETED ? count(target) : null);
        r.put("checksumsMatch", status.validation() != null && status.validation().passed());
        r.put("acknowledgedWrites", writer.acknowledged());
        r.put("lostWrites", lost);
        r.put("failedWrites", writer.failed());
        r.put("writePauseMs", writer.maxPauseMs());
        r.put("strategy", cutover.strategy());
        r.put("cutoverPauseMs", status.cutover() == null ? null : status.cutover().writePauseMs());
        r.put("clientMaxWaitMs", status.cutover() == null ? null : status.cutover().clientMaxWaitMs());
        r.put("fallback", status.fallback() == null ? null : status.fallback().outcome());
        r.put("sourceRefusesWrites", sourceRefusesWrites);
        r.put("lagP99Ms", Double.isNaN(lagP99) ? null : Math.round(lagP99 * 10) / 10.0);
        r.put("snapshotSeconds", phaseSeconds(status, "snapshot"));
        r.put("totalSeconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        r.put("leftovers", leftovers);
        r.put("prometheus", stack.prometheusUrl().orElse(null));
        r.put("error", status.error());
        r.put("compensations", status.compensations());
        info(String.format("%s: %d acknowledged writes, %d lost, %d refused/failed attempts, longest write pause %d ms; leftovers %s%s",
                status.state(), writer.acknowledged(), lost, writer.failed(), writer.maxPauseMs(), leftovers,
                stack.prometheusUrl().map(url -> "; metrics in Prometheus at " + url).orElse("")));
        out.println(json ? new ObjectMapper().writeValueAsString(r) : r.toString());
        out.flush();
        MigrationStatus.State wanted = failAt != null ? MigrationStatus.State.ROLLED_BACK
                : rollbackAfterCutover ? MigrationStatus.State.ROLLED_BACK_AFTER_CUTOVER : MigrationStatus.State.COMPLETED;
        boolean expected = status.state() == wanted && (sourceRefusesWrites == null || sourceRefusesWrites);
        return expected && lost == 0 && leftovers.isEmpty() ? 0 : 1;
    }

    /**
     * The fallback window: the application writes to the target for a few seconds (the reverse stream carries it to
     * the old source), then the demo ends the window as an operator would, with finalize or rollback.
     */
    private void decideWindow(WorkflowClient client, String workflowId, DemoWriter writer) throws InterruptedException {
        Thread.sleep(3000);
        String update = rollbackAfterCutover ? "rollback" : "finalize";
        if (rollbackAfterCutover) {
            writer.returnToSource();
        }
        info("fallback window open; sending " + update + " ...");
        try {
            info(MigrationCommands.update(client, workflowId, update, update, "demo", java.time.Duration.ofMinutes(10)));
        } catch (RuntimeException e) {
            info(update + " failed: " + e.getMessage());
        }
    }

    /** After the switch the old source must refuse an application's write (read-only, or the fence). */
    private static boolean refusesWrites(Endpoint source) {
        try (Connection c = Pg.connect(source, "demo-app-stale"); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE customers SET email = email WHERE id = 1");
            return false;
        } catch (SQLException e) {
            return "25006".equals(e.getSQLState()) || "55000".equals(e.getSQLState());
        }
    }

    private static Double phaseSeconds(MigrationStatus s, String phase) {
        return s.timings().stream().filter(t -> t.phase().equals(phase)).map(PhaseTiming::seconds).findFirst().orElse(null);
    }

    private static long count(Endpoint e) throws SQLException {
        long n = 0;
        try (Connection c = Pg.connect(e, "dbmigrate-demo"); Statement st = c.createStatement()) {
            for (String t : List.of("customers", "orders", "order_items", "documents")) {
                try (var rs = st.executeQuery("SELECT count(*) FROM " + Sql.table("public", t))) {
                    rs.next();
                    n += rs.getLong(1);
                }
            }
        } catch (SQLException ex) {
            return -1;
        }
        return n;
    }

    /** The worker's cumulative lag histogram for the demo stream: bucket upper bound (s) -> count. */
    static java.util.TreeMap<Double, Long> lagBuckets(int workerPort) {
        java.util.TreeMap<Double, Long> out = new java.util.TreeMap<>();
        try {
            HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + workerPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            for (String line : resp.body().split("\n")) {
                if (line.startsWith("dbmigrate_apply_lag_seconds_bucket{") && line.contains("stream=\"dbmigrate_" + MIGRATION + "\"")) {
                    int le = line.indexOf("le=\"") + 4;
                    String bound = line.substring(le, line.indexOf('"', le));
                    out.put(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound),
                            (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
                }
            }
        } catch (Exception e) {
            // no figure yet
        }
        return out;
    }

    /** p99 in ms of the transactions applied between two scrapes (upper bucket bound: slightly pessimistic). */
    static double p99Between(java.util.TreeMap<Double, Long> before, java.util.TreeMap<Double, Long> after) {
        long total = after.getOrDefault(Double.POSITIVE_INFINITY, 0L) - before.getOrDefault(Double.POSITIVE_INFINITY, 0L);
        if (total <= 0) {
            return Double.NaN;
        }
        for (var e : after.entrySet()) {
            long n = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (n >= Math.ceil(0.99 * total)) {
                return e.getKey() * 1000;
            }
        }
        return Double.NaN;
    }

    private void info(String line) {
        PrintWriter w = json ? spec.commandLine().getErr() : out;
        w.println(line);
        w.flush();
    }
}
