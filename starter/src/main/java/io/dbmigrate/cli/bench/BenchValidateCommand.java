package io.dbmigrate.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.validation.Counters;
import io.dbmigrate.activities.validation.Difference;
import io.dbmigrate.activities.validation.Difference.Kind;
import io.dbmigrate.activities.validation.Progress;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.validation.ValidationReport;
import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.cli.ValidationOptions;
import io.dbmigrate.cli.demo.DemoSetup;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The validation engine against the simplest alternative, on the local stack's two clusters: two equal databases
 * generated inside each cluster, known differences made on the target, the engine's comparison timed and its
 * findings checked against what was made, and the baseline (one statement per table and side reading and hashing the
 * whole table, both sides at once); baseline and engine timed in turn twice each, the faster run of each counts.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Validation speed and accuracy: two equal databases of N rows in 4 tables (bigint, uuid, text and composite "
                + "keys), K known differences on the target, the engine's comparison against one whole-table hash per table and side. "
                + "Last line: {\"rows\", \"seconds\", \"rowsPerSec\", \"baselineRowsPerSec\", \"ratioVsBaseline\", \"injected\", "
                + "\"found\", \"falsePositives\", \"peakHeapMb\", ...}.")
public final class BenchValidateCommand implements Callable<Integer> {
    static final String DB = "dbmigrate_valbench";

    @Mixin StackOptions stackOptions;
    @Spec CommandSpec spec;
    @Option(names = "--rows", defaultValue = "2000000", description = "Rows in all, over 4 tables (default ${DEFAULT-VALUE}).")
    long rows;
    @Option(names = "--differences", defaultValue = "50", description = "Differing keys made on the target (default ${DEFAULT-VALUE}).")
    int differences;
    @Mixin ValidationOptions validation;
    @Option(names = "--json", description = "Progress to stderr; stdout holds only the last line, one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (rows < 1000 || differences < 0 || differences > rows / 100) {
            throw new IllegalArgumentException("--rows must be at least 1000 and --differences between 0 and rows / 100");
        }
        LocalStack stack = stackOptions.stack(null);
        stack.upPostgres(this::info);
        StackContext ctx = stack.context();
        String ref = "file:" + ctx.postgresPasswordFile();
        Endpoint source = new Endpoint("127.0.0.1", ctx.ports().sourcePostgres(), DB, "postgres", ref);
        Endpoint target = new Endpoint("127.0.0.1", ctx.ports().targetPostgres(), DB, "postgres", ref);

        info(String.format("generating %,d rows in %d tables on both clusters ...", rows, ValidateData.TABLES.size()));
        long g0 = System.nanoTime();
        CompletableFuture<Void> s = CompletableFuture.runAsync(() -> load(source));
        load(target);
        s.join();
        Map<String, Map<String, Kind>> expected = ValidateData.inject(target, rows, differences);
        int injected = expected.values().stream().mapToInt(Map::size).sum();
        info(String.format("  loaded in %.1f s; %d differing keys made on the target", (System.nanoTime() - g0) / 1e9, injected));

        ValidationEngine.Options options = validation.options();
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String c : List.of("source-postgres", "target-postgres")) {
            stack.component(c).pid().ifPresent(pid -> pids.put(c, pid));
        }
        pids.put("bench JVM", ProcessHandle.current().pid());
        // the baselines run in sessions of their own (kept open between them); each engine run starts afresh, its
        // sessions' logins counted in its time
        try (ValidationEngine baseEngine = new ValidationEngine(source, target, options, Progress.none(), null, line -> {})) {
            // baseline, engine, baseline, engine: each timed twice, the faster counts, so that neither side alone meets a
            // burst of the machine's other load; the engine's first run also compiles its JVM's hot code, as a worker's
            // long life would
            double baseSeconds = Double.MAX_VALUE;
            double baseCpuSeconds = Double.MAX_VALUE;
            double seconds = Double.MAX_VALUE;
            double cpuSeconds = 0;
            Counters kept = null;
            long peakHeap = 0;
            long found = Long.MAX_VALUE;
            long falsePositives = 0;
            ValidationReport report = null;
            for (int round = 1; round <= 2; round++) {
                info(round == 1 ? "baseline: one whole-table hash per table and side" : "baseline again");
                double[] base = baseline(baseEngine, pids);
                baseSeconds = Math.min(baseSeconds, base[0]);
                baseCpuSeconds = Math.min(baseCpuSeconds, base[1]);
                info(round == 1 ? "the engine" : "the engine again");
                System.gc();
                HeapPeak heap = HeapPeak.start();
                CpuSampler cpu = CpuSampler.start(pids);
                long t0 = System.nanoTime();
                ValidationReport run;
                Counters counters;
                double took;
                try (ValidationEngine engine = new ValidationEngine(source, target, options, Progress.none(), null, this::info)) {
                    run = engine.run(ValidateData.tables());
                    counters = engine.counters();
                    took = (System.nanoTime() - t0) / 1e9;
                }
                // the engine's sessions' CPU counted in its window, not in the next one
                cpu.awaitNewBackendsEnded();
                double c = cpuSeconds(cpu);
                peakHeap = Math.max(peakHeap, heap.stop());
                info(String.format("  %.2f s", took));
                long[] score = score(run, expected);
                found = Math.min(found, score[0]);
                falsePositives = Math.max(falsePositives, score[1]);
                if (took < seconds) {
                    seconds = took;
                    cpuSeconds = c;
                    report = run;
                    kept = counters;
                }
            }

            long sourceRows = report.sourceRows();
            double rate = sourceRows / seconds;
            double baseRate = sourceRows / baseSeconds;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("rows", sourceRows);
            r.put("seconds", round(seconds, 3));
            r.put("rowsPerSec", Math.round(rate));
            r.put("baselineRowsPerSec", Math.round(baseRate));
            r.put("ratioVsBaseline", round(rate / baseRate, 4));
            r.put("injected", injected);
            r.put("found", found);
            r.put("falsePositives", falsePositives);
            r.put("peakHeapMb", round(peakHeap / 1048576.0, 1));
            r.put("baselineSeconds", round(baseSeconds, 3));
            r.put("cpuSeconds", round(cpuSeconds, 2));
            r.put("baselineCpuSeconds", round(baseCpuSeconds, 2));
            r.put("chunks", report.tables().stream().mapToInt(TableReport::chunks).sum());
            r.put("peakRowsHeld", kept.peakRowsHeld());
            r.put("rowsStreamed", kept.rowsStreamed());
            r.put("maxHeapMb", Runtime.getRuntime().maxMemory() / 1048576);
            info(String.format("engine %.2f s (%,.0f rows/s), baseline %.2f s (%,.0f rows/s): ratio %.2f; %d of %d differences found, %d false positives",
                    seconds, rate, baseSeconds, baseRate, rate / baseRate, found, injected, falsePositives));
            PrintWriter out = spec.commandLine().getOut();
            out.println(new ObjectMapper().writeValueAsString(r));
            out.flush();
            return found == injected && falsePositives == 0 ? 0 : 1;
        } finally {
            DemoSetup.recreate(source);
            DemoSetup.recreate(target);
        }
    }

    /** {found, false positives} of one run: made keys reported with their kind, and everything else reported or counted. */
    private long[] score(ValidationReport report, Map<String, Map<String, Kind>> expected) {
        long found = 0;
        long falsePositives = 0;
        for (TableReport t : report.tables()) {
            if (t.error() != null) {
                throw new IllegalStateException(t.table() + ": " + t.error());
            }
            Map<String, Kind> exp = expected.getOrDefault(t.table(), Map.of());
            for (Difference d : t.differences()) {
                if (exp.get(String.join("|", d.key())) == d.kind()) {
                    found++;
                } else {
                    falsePositives++;
                    info("  FALSE POSITIVE in " + t.table() + ": " + d);
                }
            }
            // counted beyond the listed keys: each one is a difference nobody made
            falsePositives += t.missing() + t.extra() + t.different() - t.differences().size();
        }
        return new long[] {found, falsePositives};
    }

    private void load(Endpoint e) {
        try {
            DemoSetup.recreate(e);
            ValidateData.load(e, rows);
        } catch (java.sql.SQLException ex) {
            throw new IllegalStateException(e.describe() + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * CPU seconds of both clusters (every backend and parallel worker) and this JVM over a window, logged with the
     * cores they used and what else ran on the machine meanwhile: on a shared machine wall time moves with the others'
     * load, the work done does not.
     */
    private double cpuSeconds(CpuSampler cpu) {
        Map<String, Double> s = cpu.seconds();
        info(String.format("  CPU: %.2f s (%s; cores: %s)", s.values().stream().mapToDouble(Double::doubleValue).sum(),
                s.entrySet().stream().map(e -> String.format("%s %.2f s", e.getKey(), e.getValue())).collect(java.util.stream.Collectors.joining(", ")),
                cpu.oneLine()));
        return s.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * Seconds and CPU seconds for one whole-table hash per table on each side, the two sides at once, table after table.
     */
    private double[] baseline(ValidationEngine engine, Map<String, Long> pids) throws Exception {
        CpuSampler cpu = CpuSampler.start(pids);
        long t0 = System.nanoTime();
        for (TableRef t : ValidateData.tables()) {
            long t1 = System.nanoTime();
            CompletableFuture<String> tgt = CompletableFuture.supplyAsync(() -> {
                try {
                    return engine.wholeTable(t, false);
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            String src = engine.wholeTable(t, true);
            String other = tgt.join();
            info(String.format("  %s: source %s, target %s rows, %.2f s", t, src.substring(0, src.indexOf(':')),
                    other.substring(0, other.indexOf(':')), (System.nanoTime() - t1) / 1e9));
        }
        double s = (System.nanoTime() - t0) / 1e9;
        info(String.format("  %.2f s", s));
        return new double[] {s, cpuSeconds(cpu)};
    }

    /** The JVM's used heap, sampled every 10 ms while the engine runs (garbage not yet collected included). */
    static final class HeapPeak {
        private final AtomicLong peak = new AtomicLong();
        private volatile boolean running = true;
        private final Thread thread;

        private HeapPeak() {
            thread = new Thread(() -> {
                while (running) {
                    peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-peak");
            thread.setDaemon(true);
        }

        static HeapPeak start() {
            HeapPeak h = new HeapPeak();
            h.thread.start();
            return h;
        }

        long stop() throws InterruptedException {
            running = false;
            thread.join();
            return peak.get();
        }
    }

    private static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    private void info(String line) {
        PrintWriter w = json ? spec.commandLine().getErr() : spec.commandLine().getOut();
        w.println(line);
        w.flush();
    }
}
