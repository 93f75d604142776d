package io.dbmigrate.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.migration.MigrationValidation;
import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.cli.demo.DemoSetup;
import io.dbmigrate.cli.migrate.MigrationCommands;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The initial copy, four ways, on the same generated data between the two clusters of the local stack: dbmigrate's
 * snapshot phase end to end through the real workflow with the plan's default snapshot mode, a raw binary COPY pipe
 * (the baseline), {@code pgcopydb clone}, and dbmigrate with {@code "snapshot": "debezium"}. Every path starts from an
 * empty target database and is checked afterwards: row counts and checksums of every table equal the source's, or the
 * path has no figure.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = "Initial-copy speed: dbmigrate's snapshot phase (migration start to caught up, plan default), a raw "
                + "binary COPY pipe, pgcopydb clone and dbmigrate with the Debezium snapshot, on the same generated data, "
                + "each verified by row counts and checksums. Last line: {\"rows\", \"bytes\", \"seconds\", \"rowsPerSec\", "
                + "\"rawCopyRowsPerSec\", \"pgcopydbRowsPerSec\", \"debeziumRowsPerSec\", \"ratioVsRawCopy\", \"ratioVsPgcopydb\", ...}.")
public final class BenchSnapshotCommand implements Callable<Integer> {
    static final String DB = "dbmigrate_snapbench";
    static final String ID_PREFIX = "snapbench_";
    /** The plan's default chunk: the workflow's own validation reads as it would in a real migration. */
    static final int VALIDATION_CHUNK_ROWS = MigrationPlan.Thresholds.defaults().validationChunkRows();

    @Mixin StackOptions stackOptions;
    @Spec CommandSpec spec;
    @Option(names = "--rows", defaultValue = "2000000",
            description = "Rows to generate in all, over 4 tables (default ${DEFAULT-VALUE}).")
    long rows;
    @Option(names = "--jobs", defaultValue = "4",
            description = "Tables copied at once by the raw COPY pipe, and pgcopydb's --table-jobs and --index-jobs (default ${DEFAULT-VALUE}).")
    int jobs;
    @Option(names = "--timeout", defaultValue = "3600",
            description = "Seconds a migration may take to catch up, and again to validate (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;
    @Option(names = "--json", description = "Progress to stderr; stdout holds only the last line, one JSON object.")
    boolean json;

    private PrintWriter out;

    /** One path's figure, or why there is none: {@code unavailable} (not a failure) or a failed run or check. */
    record PathResult(String label, Double seconds, Boolean verified, String detail, String unavailable, List<String> leftovers) {
        static PathResult unavailable(String label, String why) {
            return new PathResult(label, null, null, null, why, List.of());
        }

        static PathResult failed(String label, Double seconds, String why, List<String> leftovers) {
            return new PathResult(label, seconds, false, why, null, leftovers);
        }

        /** Only a run whose target then equalled the source has a speed. */
        Double rowsPerSec(long rows) {
            return seconds == null || !Boolean.TRUE.equals(verified) ? null : rows / seconds;
        }

        boolean failed() {
            return unavailable == null && (seconds == null || !Boolean.TRUE.equals(verified) || !leftovers.isEmpty());
        }
    }

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        if (rows < SnapshotData.TABLES.size() * 100L || jobs < 1) {
            throw new IllegalArgumentException("--rows must be at least " + SnapshotData.TABLES.size() * 100 + " and --jobs at least 1");
        }
        LocalStack stack = stackOptions.stack(null);
        DemoSetup setup = DemoSetup.on(stack, DB, 0, this::info);
        setup.removeByHand(ID_PREFIX, this::info); // an interrupted run's slots would keep the database from being dropped
        info(String.format("generating %,d rows in %d tables on the source (%s) ...", rows, SnapshotData.TABLES.size(),
                SnapshotData.TABLES.stream().map(t -> t.name() + " " + String.format("%,d", t.rows(rows))).collect(Collectors.joining(", "))));
        long g0 = System.nanoTime();
        DemoSetup.recreate(setup.source);
        SnapshotData.load(setup.source, rows);
        long sourceRows = SnapshotData.rows(setup.source);
        long bytes = SnapshotData.bytes(setup.source);
        info(String.format("  %,d rows, %,d bytes of table data (heap and TOAST, %.0f MiB) in %.1f s", sourceRows, bytes,
                bytes / 1048576.0, (System.nanoTime() - g0) / 1e9));

        String ourLabel = "dbmigrate, \"snapshot\": \"" + MigrationPlan.SNAPSHOT_COPY + "\" (the default)";
        info("1/4 " + ourLabel + ": migration start to caught up");
        PathResult ours = migration(setup, MigrationPlan.SNAPSHOT_COPY, ourLabel);
        info("2/4 raw binary COPY pipe, " + jobs + " tables at a time");
        PathResult raw = orFailed("raw binary COPY pipe", () -> rawCopy(setup));
        info("3/4 pgcopydb clone");
        PathResult pgcopydb = orFailed("pgcopydb clone", () -> pgcopydb(setup, stack));
        info("4/4 dbmigrate with \"snapshot\": \"debezium\"");
        PathResult debezium = migration(setup, MigrationPlan.SNAPSHOT_DEBEZIUM, "dbmigrate, Debezium snapshot");
        DemoSetup.recreate(setup.target); // nothing of the last copy stays behind

        List<PathResult> all = List.of(ours, raw, pgcopydb, debezium);
        summary(sourceRows, all);
        Map<String, Object> r = new LinkedHashMap<>();
        Double ourRate = ours.rowsPerSec(sourceRows);
        r.put("rows", sourceRows);
        r.put("bytes", bytes);
        r.put("seconds", round(ours.seconds(), 3));
        r.put("rowsPerSec", whole(ourRate));
        r.put("rawCopyRowsPerSec", whole(raw.rowsPerSec(sourceRows)));
        r.put("pgcopydbRowsPerSec", whole(pgcopydb.rowsPerSec(sourceRows)));
        r.put("debeziumRowsPerSec", whole(debezium.rowsPerSec(sourceRows)));
        r.put("ratioVsRawCopy", ratio(ourRate, raw.rowsPerSec(sourceRows)));
        r.put("ratioVsPgcopydb", ratio(ourRate, pgcopydb.rowsPerSec(sourceRows)));
        r.put("snapshotMode", MigrationPlan.SNAPSHOT_COPY);
        r.put("rawCopySeconds", round(raw.seconds(), 3));
        r.put("pgcopydbSeconds", round(pgcopydb.seconds(), 3));
        r.put("debeziumSeconds", round(debezium.seconds(), 3));
        Map<String, Object> verified = new LinkedHashMap<>();
        verified.put("dbmigrate", ours.verified());
        verified.put("rawCopy", raw.verified());
        verified.put("pgcopydb", pgcopydb.verified());
        verified.put("debezium", debezium.verified());
        r.put("verified", verified);
        Map<String, Object> unavailable = new LinkedHashMap<>();
        if (pgcopydb.unavailable() != null) {
            unavailable.put("pgcopydb", pgcopydb.unavailable());
        }
        r.put("unavailable", unavailable);
        r.put("leftovers", all.stream().flatMap(p -> p.leftovers().stream()).distinct().toList());
        out.println(new ObjectMapper().writeValueAsString(r));
        out.flush();
        return all.stream().anyMatch(PathResult::failed) ? 1 : 0;
    }

    /**
     * One migration through the real workflow, measured from its start to the first status past the snapshot phase
     * (AwaitCatchUp returned: everything the source held was applied and the lag is under the plan's thresholds).
     * It then runs on through its own validation to the approval wait, the target is checked, and the migration is
     * aborted: its rollback drops what it created, and what is left is counted.
     */
    private PathResult migration(DemoSetup setup, String mode, String label) throws Exception {
        DemoSetup.recreate(setup.target);
        String id = ID_PREFIX + mode + "_" + Long.toString(System.currentTimeMillis() / 1000, 36);
        MigrationPlan plan = setup.plan(id, "manual", null, VALIDATION_CHUNK_ROWS).withSnapshot(mode);
        WorkflowProbe wf = new WorkflowProbe(setup.temporal, plan.workflowId());
        PathResult r;
        try {
            r = measure(setup, plan, wf, label);
        } finally {
            String ended = wf.abortOrTerminate("bench snapshot: measured", Duration.ofMinutes(5));
            WorkflowProbe.Result end = wf.result(Duration.ofSeconds(30));
            info("  " + ended + (end.status() == null ? "" : ": " + end.status().state() + ", compensations "
                    + end.status().compensations()));
        }
        List<String> leftovers = setup.leftovers();
        if (!leftovers.isEmpty()) {
            info("  LEFTOVERS after the rollback: " + leftovers + "; removing them by hand");
            setup.removeByHand(ID_PREFIX, this::info);
        }
        return new PathResult(r.label(), r.seconds(), r.verified(), r.detail(), r.unavailable(), leftovers);
    }

    private PathResult measure(DemoSetup setup, MigrationPlan plan, WorkflowProbe wf, String label) throws Exception {
        long t0 = System.nanoTime();
        MigrationCommands.startMigration(setup.temporal, plan);
        Double caughtUp = null;
        MigrationStatus last = null;
        String shown = null;
        long progressAt = t0;
        long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            Optional<MigrationStatus> s = wf.status(Duration.ofSeconds(5));
            double at = (System.nanoTime() - t0) / 1e9;
            if (s.isPresent()) {
                last = s.get();
                String line = last.phase().label() + " " + last.state() + (last.error() == null ? "" : ": " + last.error());
                if (!line.equals(shown)) {
                    info(String.format("  %7.1f s  %s", at, line));
                    shown = line;
                } else if (caughtUp == null && last.applier() != null && System.nanoTime() - progressAt > 10_000_000_000L) {
                    info(String.format("  %7.1f s  %s: %,d snapshot rows applied", at, last.phase().label(), last.applier().snapshotRows()));
                    progressAt = System.nanoTime();
                }
                if (WorkflowProbe.ended(last)) {
                    break;
                }
                // validation starts only once AwaitCatchUp returned, whatever phases a copy adds before it
                if (caughtUp == null && last.phase().ordinal() >= Phase.VALIDATION.ordinal()) {
                    caughtUp = at;
                    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
                }
                if (caughtUp != null && last.state() == State.AWAITING_APPROVAL) {
                    break;
                }
            }
            Thread.sleep(caughtUp == null ? 100 : 500);
        }
        if (caughtUp == null) {
            return PathResult.failed(label, null, "no catch-up within " + timeoutSeconds + " s: " + (last == null
                    ? "no status answered (" + wf.lastProblem() + ")" : describe(last)), List.of());
        }
        String timings = last.timings().stream().filter(t -> t.seconds() != null)
                .map(t -> String.format("%s %.1f s", t.phase(), t.seconds())).collect(Collectors.joining(", "));
        boolean ownPassed = last.state() == State.AWAITING_APPROVAL && last.validation() != null && last.validation().passed();
        String own = ownPassed ? "its own validation passed" : "its own validation did not pass: " + describe(last);
        info(String.format("  caught up %.1f s after the start (%s); %s", caughtUp, timings, own));
        Verification v = verify(setup);
        return new PathResult(label, caughtUp, v.equal() && ownPassed, timings + "; " + own + "; " + v.describe(), null, List.of());
    }

    private static String describe(MigrationStatus s) {
        return s.phase().label() + " " + s.state() + (s.error() == null ? "" : ", " + s.error());
    }

    /** A comparison path that throws has no figure; the bench goes on with the next one. */
    private PathResult orFailed(String label, Callable<PathResult> path) {
        try {
            return path.call();
        } catch (Exception e) {
            info("  " + label + " failed: " + e);
            return PathResult.failed(label, null, e.toString(), List.of());
        }
    }

    private PathResult rawCopy(DemoSetup setup) throws Exception {
        String label = "raw binary COPY pipe (" + jobs + " jobs)";
        DemoSetup.recreate(setup.target);
        BinaryCopyPipe.Result r = BinaryCopyPipe.run(setup.source, setup.target, jobs, this::info);
        Verification v = verify(setup);
        return new PathResult(label, r.seconds(), v.equal(), v.describe(), null, List.of());
    }

    private PathResult pgcopydb(DemoSetup setup, LocalStack stack) throws Exception {
        String label = "pgcopydb clone (" + jobs + " jobs)";
        DemoSetup.recreate(setup.target);
        Path dir = stack.context().layout().home().resolve("bench-snapshot/pgcopydb");
        java.nio.file.Files.createDirectories(dir.getParent());
        StringBuilder why = new StringBuilder();
        Optional<Path> binary = Pgcopydb.locateOrInstall(dir.resolveSibling("pgcopydb-install.log"), this::info, why);
        if (binary.isEmpty()) {
            info("  unavailable: " + why);
            return PathResult.unavailable(label, why.toString());
        }
        Pgcopydb.Outcome o = Pgcopydb.cloneDatabase(binary.get(), setup.source, setup.target, stack.context().postgresPassword(),
                dir, jobs, this::info);
        if (o.unavailable() != null) {
            info("  unavailable: " + o.unavailable());
            return PathResult.unavailable(label, o.unavailable());
        }
        info(String.format("  pgcopydb clone: %.1f s", o.seconds()));
        Verification v = verify(setup);
        return new PathResult(label, o.seconds(), v.equal(), v.describe(), null, List.of());
    }

    /** Every table's rows and checksum on both sides. */
    record Verification(List<TableValidation> tables, String error) {
        boolean equal() {
            return error == null && tables.stream().allMatch(TableValidation::matches);
        }

        String describe() {
            if (error != null) {
                return "check failed: " + error;
            }
            long n = tables.stream().mapToLong(TableValidation::targetRows).sum();
            List<String> bad = tables.stream().filter(t -> !t.matches())
                    .map(t -> t.table() + " " + t.sourceRows() + " vs " + t.targetRows() + " rows" + (t.mismatchedChunks().isEmpty() ? "" : ", checksums differ"))
                    .toList();
            return bad.isEmpty() ? String.format("target equals source: %d tables, %,d rows, checksums equal", tables.size(), n)
                    : "TARGET DIFFERS: " + String.join("; ", bad);
        }
    }

    /**
     * Row counts and the order-free checksum {@code sum(hashtextextended(row::text, 0))} of each table on both sides:
     * the migration's own validation engine, frozen (nothing writes).
     */
    private Verification verify(DemoSetup setup) {
        long t0 = System.nanoTime();
        List<TableValidation> out = new ArrayList<>();
        try {
            for (TableRef t : SnapshotData.tables()) {
                out.add(MigrationValidation.whole(setup.source, setup.target, t, io.dbmigrate.activities.validation.ValidationEngine.Options.defaults().chunkRows(), null, false));
            }
        } catch (SQLException e) {
            Verification v = new Verification(out, e.getMessage());
            info("  " + v.describe());
            return v;
        }
        Verification v = new Verification(out, null);
        info(String.format("  %s (checked in %.1f s)", v.describe(), (System.nanoTime() - t0) / 1e9));
        return v;
    }

    private void summary(long rows, List<PathResult> paths) {
        info("");
        info(String.format("%-40s %10s %12s  %s", "path", "seconds", "rows/s", "target equals source"));
        for (PathResult p : paths) {
            String rate = p.rowsPerSec(rows) == null ? "-" : String.format("%,.0f", p.rowsPerSec(rows));
            String check = p.unavailable() != null ? "unavailable: " + p.unavailable()
                    : Boolean.TRUE.equals(p.verified()) ? "yes" : "NO: " + p.detail();
            info(String.format("%-40s %10s %12s  %s", p.label(), p.seconds() == null ? "-" : String.format("%.2f", p.seconds()), rate, check));
        }
    }

    private static Double round(Double v, int decimals) {
        if (v == null) {
            return null;
        }
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    private static Long whole(Double v) {
        return v == null ? null : Math.round(v);
    }

    /** {@code ours / theirs}: 1.0 is as fast as the other path, 0.5 half as fast. */
    private static Double ratio(Double ours, Double theirs) {
        return ours == null || theirs == null ? null : round(ours / theirs, 4);
    }

    private void info(String line) {
        PrintWriter w = json ? spec.commandLine().getErr() : out;
        w.println(line);
        w.flush();
    }
}
