package io.dbmigrate.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** CPU seconds per stack process (and per PostgreSQL cluster, all backends summed), read from /proc. */
final class CpuSampler {
    private static final double TICKS = 100.0; // USER_HZ on Linux

    private CpuSampler() {}

    /** name -> CPU seconds so far. {@code processes}: name -> root PID; PostgreSQL roots include their backends. */
    static Map<String, Double> sample(Map<String, Long> processes) {
        Map<String, Double> out = new LinkedHashMap<>();
        processes.forEach((name, pid) -> {
            double total = cpu(pid);
            if (name.contains("postgres")) {
                List<ProcessHandle> children = ProcessHandle.of(pid).map(p -> p.children().toList()).orElse(List.of());
                for (ProcessHandle c : children) {
                    total += cpu(c.pid());
                }
            }
            out.put(name, total);
        });
        return out;
    }

    static double cpu(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields after the command: state(0) ... utime(11) stime(12)
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
