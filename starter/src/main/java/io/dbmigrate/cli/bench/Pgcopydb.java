package io.dbmigrate.cli.bench;

import io.dbmigrate.workflows.model.Endpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code pgcopydb clone} between the two clusters, for comparison: Debian's {@code pgcopydb} package, installed with
 * apt-get when this process runs as root on a machine that has it. It runs the machine's {@code pg_dump}, which refuses
 * a newer server (STACK.md): such a refusal, like a missing package, makes pgcopydb "unavailable", not a failure of
 * the bench.
 */
final class Pgcopydb {
    /** Seconds of {@code pgcopydb clone}, or why there is no figure. */
    record Outcome(Double seconds, String unavailable) {
        static Outcome unavailable(String why) {
            return new Outcome(null, why);
        }
    }

    private Pgcopydb() {}

    /** The binary on the PATH or in a PostgreSQL bin directory. */
    static Optional<Path> locate() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "pgcopydb"));
            }
        }
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            versions.sorted(Comparator.reverseOrder()).forEach(v -> candidates.add(v.resolve("bin/pgcopydb")));
        } catch (IOException e) {
            // no Debian PostgreSQL layout
        }
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    /** The binary, installing Debian's package first when it is missing and this process may; else why not. */
    static Optional<Path> locateOrInstall(Path log, Consumer<String> info, StringBuilder why) {
        Optional<Path> found = locate();
        if (found.isPresent()) {
            return found;
        }
        Optional<Path> aptGet = Stream.of("/usr/bin/apt-get", "/bin/apt-get").map(Path::of).filter(Files::isExecutable).findFirst();
        if (aptGet.isEmpty() || !isRoot()) {
            why.append("pgcopydb is not installed (").append(aptGet.isEmpty() ? "no apt-get" : "not root")
                    .append(": install Debian's pgcopydb package)");
            return Optional.empty();
        }
        info.accept("  installing Debian's pgcopydb package (apt-get install -y pgcopydb) ...");
        String apt = aptGet.get().toString();
        int exit = run(List.of(apt, "install", "-y", "--no-install-recommends", "pgcopydb"), Map.of("DEBIAN_FRONTEND", "noninteractive"), log, 600);
        if (exit != 0) {
            info.accept("  apt-get install failed (exit " + exit + "); apt-get update, then again ...");
            run(List.of(apt, "update"), Map.of("DEBIAN_FRONTEND", "noninteractive"), log, 600);
            exit = run(List.of(apt, "install", "-y", "--no-install-recommends", "pgcopydb"), Map.of("DEBIAN_FRONTEND", "noninteractive"), log, 600);
        }
        found = locate();
        if (found.isEmpty()) {
            why.append("apt-get install pgcopydb failed (exit ").append(exit).append("): ").append(firstError(log));
        }
        return found;
    }

    /**
     * {@code pgcopydb clone} of the whole source database into {@code target} (empty): schema, data with
     * {@code jobs} COPY jobs, indexes with {@code jobs} index jobs; its VACUUM skipped when this version can skip it,
     * since no other path vacuums. {@code workDir} is emptied first.
     */
    static Outcome cloneDatabase(Path binary, Endpoint source, Endpoint target, String password, Path workDir, int jobs,
            Consumer<String> info) throws IOException {
        deleteTree(workDir);
        Files.createDirectories(workDir.getParent());
        Path log = workDir.resolveSibling(workDir.getFileName() + ".log");
        Path help = workDir.resolveSibling(workDir.getFileName() + "-help.log");
        run(List.of(binary.toString(), "clone", "--help"), Map.of(), help, 30);
        String options = Files.readString(help);
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "clone", "--source", uri(source), "--target", uri(target),
                "--dir", workDir.toString(), "--table-jobs", Integer.toString(jobs), "--index-jobs", Integer.toString(jobs)));
        for (String o : List.of("--skip-vacuum", "--no-owner", "--no-acl")) {
            if (options.contains(o)) {
                cmd.add(o);
            }
        }
        info.accept("  " + String.join(" ", cmd) + "  (log " + log + ")");
        long t0 = System.nanoTime();
        int exit = run(cmd, Map.of("PGPASSWORD", password), log, 6 * 3600);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (exit != 0) {
            return Outcome.unavailable("pgcopydb clone failed (exit " + exit + "): " + firstError(log));
        }
        return new Outcome(seconds, null);
    }

    private static String uri(Endpoint e) {
        return "postgres://" + e.user() + "@" + e.host() + ":" + e.port() + "/" + e.database();
    }

    /** Runs a command with its output in {@code log}; its exit code, or -1 after {@code timeoutSeconds} (then killed). */
    private static int run(List<String> cmd, Map<String, String> env, Path log, long timeoutSeconds) {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -3;
        }
    }

    /** The first error line of a log (pgcopydb's, pg_dump's or apt-get's), else its last line. */
    private static String firstError(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (String line : lines) {
                if (line.contains("ERROR") || line.contains("error:") || line.startsWith("E:")) {
                    return line.strip();
                }
            }
            return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1).strip();
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
