package io.dbmigrate.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.cli.bench.FaultCell.Fault;
import io.dbmigrate.cli.bench.FaultCell.When;
import io.dbmigrate.cli.demo.DemoSetup;
import io.dbmigrate.cli.demo.DemoWriter;
import io.dbmigrate.cli.migrate.MigrationCommands;
import io.dbmigrate.cli.migrate.TemporalOptions;
import io.dbmigrate.deploy.Component;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackException;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The fault matrix: the demo's migration under live writes, once per cell, with one process of the stack failing in one
 * phase, brought back the way an operator would ({@code stack up}). Each cell ends COMPLETED, ROLLED_BACK, FAILED or
 * STUCK (no end within the cell's deadline after the recovery); then the check of every acknowledged write and of what
 * dbmigrate left behind.
 */
@Command(name = "faults", mixinStandardHelpOptions = true,
        description = "Kill -9 of the worker, Kafka Connect and Kafka, and a restart of the source and of the target "
                + "PostgreSQL, each in the snapshot, streaming, approval and cutover phases of a demo migration under live "
                + "writes. Prints the matrix; last line (--json): runs, completed, rolledBack, stuck, lostWrites, leftovers, cells.")
public final class BenchFaultsCommand implements Callable<Integer> {
    static final String DB = "dbmigrate_faults";
    static final String ID_PREFIX = "faults_";

    enum Outcome { COMPLETED, ROLLED_BACK, FAILED, STUCK }

    @Mixin StackOptions stackOptions;
    @Spec CommandSpec spec;
    @Option(names = "--cells", split = ",", paramLabel = "COMPONENT:PHASE",
            description = "Cells to run, e.g. worker:snapshot,connect:streaming (default: all 20). Components: worker, "
                    + "connect, kafka, source, target; phases: snapshot, streaming, approval, cutover.")
    List<String> cells;
    @Option(names = "--rows", defaultValue = "20000", description = "Rows loaded per cell (default ${DEFAULT-VALUE}).")
    int rows;
    @Option(names = "--writes-per-sec", defaultValue = "100", description = "Live writer transactions/s (default ${DEFAULT-VALUE}).")
    int writesPerSec;
    @Option(names = "--validation-chunk-rows", defaultValue = "500",
            description = "The plan's thresholds.validationChunkRows: smaller chunks make validation, and the cutover's "
                    + "frozen validation, last long enough to land a fault in (default ${DEFAULT-VALUE}).")
    int chunkRows;
    @Option(names = "--down-seconds", defaultValue = "5", description = "How long the failed process stays down before "
            + "stack up brings it back (default ${DEFAULT-VALUE}).")
    int downSeconds;
    @Option(names = "--cell-timeout", defaultValue = "300", description = "Seconds a cell may take to reach its phase, "
            + "and again to end after the recovery; past it the cell is STUCK (default ${DEFAULT-VALUE}).")
    int cellTimeout;
    @Option(names = "--json", description = "Progress to stderr; last line of stdout: one JSON object.")
    boolean json;

    private PrintWriter out;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        List<FaultCell> selected = cells == null || cells.isEmpty() ? FaultCell.all() : cells.stream().map(FaultCell::parse).toList();
        LocalStack stack = stackOptions.stack(null);
        DemoSetup setup = DemoSetup.on(stack, DB, rows, this::info);
        removeByHand(setup); // a run interrupted before this one
        List<CellResult> results = new ArrayList<>();
        for (int i = 0; i < selected.size(); i++) {
            FaultCell cell = selected.get(i);
            info(String.format("=== cell %d/%d: %s of %s in %s", i + 1, selected.size(), cell.fault().action(),
                    cell.fault().component, cell.when().label));
            CellResult r;
            CellRun run = new CellRun(stack, setup, cell);
            try {
                r = run.run();
            } catch (Exception e) {
                r = CellResult.harnessError(cell, e);
                run.abandon();
                recover(stack);
                removeByHand(setup);
            }
            results.add(r);
            info("=== " + r.oneLine());
        }
        printMatrix(results);
        Map<String, Object> summary = summary(results);
        if (json) {
            out.println(JSON.writeValueAsString(summary));
        } else {
            out.printf("runs %s, completed %s, rolled back %s, failed %s, stuck %s, lost writes %s, leftovers %s%n",
                    summary.get("runs"), summary.get("completed"), summary.get("rolledBack"), summary.get("failed"),
                    summary.get("stuck"), summary.get("lostWrites"), summary.get("leftovers"));
        }
        out.flush();
        boolean goal = (int) summary.get("completed") == results.size() && (int) summary.get("stuck") == 0
                && (long) summary.get("lostWrites") == 0 && (int) summary.get("leftovers") == 0;
        return goal ? 0 : 1;
    }

    /** One cell, from fresh databases to the check of every acknowledged write. */
    private final class CellRun {
        final LocalStack stack;
        final DemoSetup setup;
        final FaultCell cell;
        final String id;
        final String workflowId;
        final WorkflowProbe wf;
        long t0;
        String lastShown;
        DemoWriter writer;
        boolean started;
        /** The cutover was approved (the update answered); asked again at most once a second while it waits. */
        boolean approved;
        long lastApproval;

        CellRun(LocalStack stack, DemoSetup setup, FaultCell cell) {
            this.stack = stack;
            this.setup = setup;
            this.cell = cell;
            // unique per run: the test server keeps every workflow, and slot names must not repeat a live one
            this.id = ID_PREFIX + cell.fault().label + "_" + cell.when().label + "_"
                    + Long.toString(System.currentTimeMillis() / 1000, 36);
            this.workflowId = TemporalOptions.workflowId(id);
            this.wf = new WorkflowProbe(setup.temporal, workflowId);
        }

        CellResult run() throws Exception {
            setup.recreate();
            // the application asks on a probe of its own, so its timeouts while the worker is down are not counted below
            WorkflowProbe app = new WorkflowProbe(setup.temporal, workflowId);
            writer = setup.writer(writesPerSec,
                    () -> app.status(Duration.ofSeconds(1)).map(s -> s.cutover() != null).orElse(false));
            writer.start();
            t0 = System.nanoTime();
            MigrationCommands.startMigration(setup.temporal, setup.plan(id, "manual", null, chunkRows));
            started = true;

            Reached at = awaitPhase();
            String reason = null;
            Double recoverySeconds = null;
            int timeoutsBefore = wf.timeouts();
            if (at.reached) {
                inject();
                Thread.sleep(downSeconds * 1000L);
                long r0 = System.nanoTime();
                try {
                    stack.up(line -> show("stack up: " + line.trim()));
                } catch (StackException e) {
                    reason = "stack up failed: " + e.getMessage().lines().findFirst().orElse("");
                }
                recoverySeconds = round1((System.nanoTime() - r0) / 1e9);
            }
            End end = awaitEnd();
            int unanswered = wf.timeouts() - timeoutsBefore;
            Outcome outcome;
            if (end.closed) {
                WorkflowProbe.Result result = wf.result(Duration.ofSeconds(30));
                outcome = result.status() == null ? Outcome.FAILED : switch (result.status().state()) {
                    case COMPLETED -> Outcome.COMPLETED;
                    case ROLLED_BACK -> Outcome.ROLLED_BACK;
                    default -> Outcome.FAILED;
                };
                String error = result.status() == null ? result.failure() : result.status().error();
                reason = join(reason, error);
            } else {
                outcome = Outcome.STUCK;
                reason = join(reason, end.diagnosis + "; " + giveUp());
            }
            if (!at.reached) {
                reason = join("the fault was not injected: " + at.why, reason);
            }
            double seconds = round1((System.nanoTime() - t0) / 1e9);
            long lost = writer.finish(outcome == Outcome.COMPLETED);
            List<String> leftovers = setup.leftovers();
            if (!leftovers.isEmpty()) {
                removeByHand(setup);
            }
            return new CellResult(cell, id, outcome, seconds, at.reached, at.phaseAtKill, recoverySeconds,
                    writer.acknowledged(), lost, leftovers, unanswered, reason);
        }

        /** After a harness error: the writer stops and the workflow ends, whatever it left is removed by the caller. */
        void abandon() {
            if (started) {
                try {
                    wf.terminate("bench faults: harness error");
                } catch (RuntimeException ignored) {
                    // closed already
                }
            }
            if (writer != null) {
                try {
                    writer.finish(false);
                } catch (Exception ignored) {
                    // stopping is what counts here
                }
            }
        }

        record Reached(boolean reached, String phaseAtKill, String why) {}

        /** Approves once the migration waits for approval (the update is asked at most once a second). */
        void approveIfWaiting(MigrationStatus s) {
            if (!approved && s.state() == State.AWAITING_APPROVAL && System.nanoTime() - lastApproval > 1_000_000_000L) {
                lastApproval = System.nanoTime();
                approved = wf.approve("bench-faults", Duration.ofSeconds(10));
            }
        }

        /** Polls the status query until the cell's phase is on (fast around the short cutover); approves for the cutover cell. */
        Reached awaitPhase() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(cellTimeout);
            long phaseSeenAt = 0;
            MigrationStatus last = null;
            while (System.nanoTime() < deadline) {
                Optional<MigrationStatus> s = wf.status(Duration.ofSeconds(5));
                if (s.isPresent()) {
                    last = s.get();
                    show(last);
                    if (WorkflowProbe.ended(last)) {
                        return new Reached(false, last.phase().label(), "the migration ended (" + last.state()
                                + ") before phase " + cell.when().phase.label());
                    }
                    if (last.phase() == cell.when().phase) {
                        phaseSeenAt = phaseSeenAt == 0 ? System.nanoTime() : phaseSeenAt;
                        if (ready(last, phaseSeenAt)) {
                            return new Reached(true, last.phase().label(), null);
                        }
                    }
                    if (cell.when() == When.CUTOVER) {
                        approveIfWaiting(last);
                    }
                }
                Thread.sleep(cell.when() == When.CUTOVER && approved ? 5 : 100);
            }
            return new Reached(false, last == null ? "unknown" : last.phase().label(),
                    "phase " + cell.when().phase.label() + " not reached within " + cellTimeout + " s");
        }

        /** In the snapshot: once rows arrive on the target (mid-copy), or after 3 s in it; approval: once it waits. */
        boolean ready(MigrationStatus s, long phaseSeenAt) throws SQLException {
            return switch (cell.when()) {
                case SNAPSHOT -> System.nanoTime() - phaseSeenAt > 3_000_000_000L || targetHasRows();
                case APPROVAL -> s.state() == State.AWAITING_APPROVAL;
                default -> true;
            };
        }

        boolean targetHasRows() throws SQLException {
            try (Connection c = Pg.connect(setup.target, "dbmigrate-bench-faults")) {
                return Pg.exists(c, "SELECT 1 FROM orders LIMIT 1");
            }
        }

        /** kill -9 of the recorded PID, or pg_ctl stop -m fast; {@code stack up} brings it back. */
        void inject() {
            Component c = stack.component(cell.fault().component);
            show(cell.fault().action() + " " + c.name() + " (pid " + c.pid().map(String::valueOf).orElse("none") + ")");
            if (cell.fault().restart) {
                c.stop();
                return;
            }
            ProcessHandle p = c.pid().flatMap(ProcessHandle::of)
                    .orElseThrow(() -> new IllegalStateException(c.name() + " is not running: nothing to kill"));
            String home = "-Ddbmigrate.home=" + stack.context().layout().home();
            if (!p.info().commandLine().orElse("").contains(home)) {
                throw new IllegalStateException("pid " + p.pid() + " recorded for " + c.name() + " is not this stack's ("
                        + home + " not on its command line); not killing it");
            }
            p.destroyForcibly(); // SIGKILL
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(c.name() + " (pid " + p.pid() + ") did not die after SIGKILL", e);
            }
        }

        record End(boolean closed, String diagnosis) {}

        /** Waits for the workflow to close, approving once it waits for approval; the deadline runs from the recovery. */
        End awaitEnd() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(cellTimeout);
            MigrationStatus last = null;
            String pending = "";
            while (System.nanoTime() < deadline) {
                Optional<WorkflowProbe.Described> d = wf.describe(Duration.ofSeconds(5));
                if (d.isPresent() && d.get().closed()) {
                    return new End(true, null);
                }
                pending = d.map(WorkflowProbe.Described::pending).orElse(pending);
                Optional<MigrationStatus> s = wf.status(Duration.ofSeconds(5));
                if (s.isPresent()) {
                    last = s.get();
                    show(last);
                    approveIfWaiting(last);
                }
                Thread.sleep(500);
            }
            return new End(false, String.format("no end within %d s of the recovery; last status answered: %s; "
                    + "%s; pending: %s", cellTimeout, last == null ? "none"
                    : last.phase().label() + "/" + last.state(), wf.lastProblem(), pending.isEmpty() ? "nothing" : pending));
        }

        /** A STUCK cell: abort (the rollback runs if a worker runs the workflow), else terminate. */
        String giveUp() throws InterruptedException {
            return wf.abortOrTerminate("bench faults: no end within the cell's deadline", Duration.ofSeconds(30));
        }

        void show(MigrationStatus s) {
            String line = s.phase().label() + " " + s.state() + (s.error() == null ? "" : ": " + s.error());
            if (!line.equals(lastShown)) {
                lastShown = line;
                show(line);
            }
        }

        void show(String line) {
            info(String.format("%7.1f s  %-17s %s", (System.nanoTime() - t0) / 1e9, cell.name(), line));
        }
    }

    /** After a harness error: whatever is down comes back before the next cell. */
    private void recover(LocalStack stack) {
        try {
            stack.up(line -> {});
        } catch (StackException e) {
            info("stack up failed: " + e.getMessage());
        }
    }

    /** What an abandoned cell leaves that would stop the next one (see {@link DemoSetup#removeByHand}). */
    private void removeByHand(DemoSetup setup) {
        setup.removeByHand(ID_PREFIX, this::info);
    }

    private void printMatrix(List<CellResult> results) {
        StringBuilder b = new StringBuilder(String.format("%n%-26s", "fault \\ phase"));
        for (When w : When.values()) {
            b.append(String.format("%-22s", w.label));
        }
        b.append('\n');
        for (Fault f : Fault.values()) {
            if (results.stream().noneMatch(r -> r.cell().fault() == f)) {
                continue;
            }
            b.append(String.format("%-26s", f.action() + " " + f.component));
            for (When w : When.values()) {
                String text = results.stream().filter(r -> r.cell().fault() == f && r.cell().when() == w)
                        .map(CellResult::matrixText).reduce((x, y) -> y).orElse("-");
                b.append(String.format("%-22s", text));
            }
            b.append('\n');
        }
        b.append("(seconds from start to end; * the fault did not land in that phase; L lost writes; R leftovers; "
                + "Q status queries unanswered after the recovery)\n");
        for (CellResult r : results) {
            if (r.outcome() != Outcome.COMPLETED || r.lostWrites() > 0 || !r.leftovers().isEmpty() || r.unansweredQueries() > 0) {
                b.append(r.cell().name()).append(": ").append(r.outcome()).append(" - ").append(r.reason())
                        .append(r.leftovers().isEmpty() ? "" : "; leftovers " + r.leftovers()).append('\n');
            }
        }
        out.print(b);
    }

    static Map<String, Object> summary(List<CellResult> results) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("runs", results.size());
        m.put("completed", (int) results.stream().filter(r -> r.outcome() == Outcome.COMPLETED).count());
        m.put("rolledBack", (int) results.stream().filter(r -> r.outcome() == Outcome.ROLLED_BACK).count());
        m.put("failed", (int) results.stream().filter(r -> r.outcome() == Outcome.FAILED).count());
        // a migration that answers nobody after its process came back is stuck too, even if it ends later
        m.put("stuck", (int) results.stream().filter(r -> r.outcome() == Outcome.STUCK || r.unansweredQueries() > 0).count());
        m.put("lostWrites", results.stream().mapToLong(CellResult::lostWrites).sum());
        m.put("leftovers", results.stream().mapToInt(r -> r.leftovers().size()).sum());
        m.put("cells", results.stream().map(CellResult::json).toList());
        return m;
    }

    record CellResult(FaultCell cell, String migrationId, Outcome outcome, double seconds, boolean landed, String phaseAtKill,
            Double recoverySeconds, long acknowledgedWrites, long lostWrites, List<String> leftovers, int unansweredQueries,
            String reason) {

        static CellResult harnessError(FaultCell cell, Exception e) {
            return new CellResult(cell, null, Outcome.FAILED, 0, false, null, null, 0, 0, List.of(), 0,
                    "harness error: " + e);
        }

        String matrixText() {
            return outcome + " " + Math.round(seconds) + "s" + (landed ? "" : "*") + (lostWrites > 0 ? " L" + lostWrites : "")
                    + (leftovers.isEmpty() ? "" : " R" + leftovers.size()) + (unansweredQueries > 0 ? " Q" + unansweredQueries : "");
        }

        String oneLine() {
            return String.format("%s: %s in %.1f s (fault %s, phase at fault %s, recovery %s s), %d acknowledged writes, "
                    + "%d lost, leftovers %s%s%s", cell.name(), outcome, seconds, landed ? "landed" : "NOT injected", phaseAtKill,
                    recoverySeconds, acknowledgedWrites, lostWrites, leftovers,
                    unansweredQueries > 0 ? ", " + unansweredQueries + " status queries unanswered after the recovery" : "",
                    reason == null ? "" : "; " + reason);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("component", cell.fault().label);
            m.put("phase", cell.when().label);
            m.put("outcome", outcome.name());
            m.put("seconds", seconds);
            m.put("fault", cell.fault().action());
            m.put("landed", landed);
            m.put("phaseAtFault", phaseAtKill);
            m.put("recoverySeconds", recoverySeconds);
            m.put("acknowledgedWrites", acknowledgedWrites);
            m.put("lostWrites", lostWrites);
            m.put("leftovers", leftovers);
            m.put("unansweredQueries", unansweredQueries);
            m.put("migrationId", migrationId);
            m.put("reason", reason);
            return m;
        }
    }

    private static String join(String a, String b) {
        return a == null ? b : b == null ? a : a + "; " + b;
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private void info(String line) {
        PrintWriter w = json ? spec.commandLine().getErr() : out;
        synchronized (w) {
            w.println(line);
            w.flush();
        }
    }
}
