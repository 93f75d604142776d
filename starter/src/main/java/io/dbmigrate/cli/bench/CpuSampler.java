package io.dbmigrate.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU used by each stack process over a window, read from /proc, with the whole machine beside it so that what the
 * named processes do not explain (and what stays idle) is visible too.
 */
final class CpuSampler {
    private static final double TICKS = 100.0; // USER_HZ on Linux
    static final String OTHER = "everything else";
    static final String STOLEN = "stolen by the hypervisor";
    static final String IDLE = "idle";

    private final Map<String, Long> processes;
    private final Map<String, Double> start;
    private final java.util.Set<Long> startChildren;
    private final long[] machineStart;
    private final long t0 = System.nanoTime();

    private CpuSampler(Map<String, Long> processes) {
        this.processes = processes;
        this.startChildren = children();
        this.start = sample(processes);
        this.machineStart = machine();
    }

    /** Starts a window. {@code processes}: name -> root PID; a PostgreSQL root counts all its backends. */
    static CpuSampler start(Map<String, Long> processes) {
        return new CpuSampler(processes);
    }

    /** Cores each process used since the start, then everything else on the machine, time stolen by the hypervisor, idle. */
    Map<String, Double> cores() {
        double wall = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> end = sample(processes);
        long[] m = machine();
        Map<String, Double> out = new LinkedHashMap<>();
        double named = 0;
        for (Map.Entry<String, Double> e : end.entrySet()) {
            double c = (e.getValue() - start.getOrDefault(e.getKey(), 0.0)) / wall;
            out.put(e.getKey(), c);
            named += c;
        }
        double busy = (m[0] - machineStart[0]) / TICKS / wall;
        out.put(OTHER, Math.max(0, busy - named));
        out.put(STOLEN, (m[2] - machineStart[2]) / TICKS / wall);
        out.put(IDLE, (m[1] - machineStart[1]) / TICKS / wall);
        return out;
    }

    /** CPU seconds each named process used since the start (a PostgreSQL root with all its backends). */
    Map<String, Double> seconds() {
        Map<String, Double> end = sample(processes);
        Map<String, Double> out = new LinkedHashMap<>();
        end.forEach((n, v) -> out.put(n, v - start.getOrDefault(n, 0.0)));
        return out;
    }

    /**
     * Waits (up to 5 s) until the PostgreSQL backends started since the window began have ended and been reaped, once
     * their sessions are closed: an ended backend's CPU reaches its postmaster's cutime only then, and would otherwise
     * land in the next window.
     */
    void awaitNewBackendsEnded() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline && !startChildren.containsAll(children())) {
            Thread.sleep(20);
        }
    }

    private java.util.Set<Long> children() {
        java.util.Set<Long> out = new java.util.HashSet<>();
        processes.forEach((name, pid) -> {
            if (name.contains("postgres")) {
                ProcessHandle.of(pid).ifPresent(p -> p.children().forEach(c -> out.add(c.pid())));
            }
        });
        return out;
    }

    /** One "name cores" pair after another, for a single log line. */
    String oneLine() {
        StringBuilder b = new StringBuilder();
        cores().forEach((n, v) -> b.append(String.format(" %s %.2f", n, v)));
        return b.toString().trim();
    }

    private static Map<String, Double> sample(Map<String, Long> processes) {
        Map<String, Double> out = new LinkedHashMap<>();
        processes.forEach((name, pid) -> {
            long[] root = ticks(pid);
            double total = (root[0] + root[1]) / TICKS;
            if (name.contains("postgres")) {
                // backends that ended during the window (the writers' connections) are in the postmaster's cutime
                total += (root[2] + root[3]) / TICKS;
                List<ProcessHandle> children = ProcessHandle.of(pid).map(p -> p.children().toList()).orElse(List.of());
                for (ProcessHandle c : children) {
                    long[] t = ticks(c.pid());
                    total += (t[0] + t[1]) / TICKS;
                }
            }
            out.put(name, total);
        });
        return out;
    }

    /** utime, stime, cutime, cstime of one process, in ticks; zeros when it is gone. */
    private static long[] ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14])};
        } catch (IOException | RuntimeException e) {
            return new long[4];
        }
    }

    /** Busy, idle and stolen ticks of the whole machine (all CPUs), from the first line of /proc/stat. */
    private static long[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            long idle = 0;
            long steal = 0;
            for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                long v = Long.parseLong(f[i]);
                if (i == 4 || i == 5) {
                    idle += v;
                } else if (i == 8) {
                    steal += v; // a VM's neighbours ran instead of us: not this stack's work
                } else {
                    busy += v;
                }
            }
            return new long[] {busy, idle, steal};
        } catch (IOException | RuntimeException e) {
            return new long[3];
        }
    }
}
