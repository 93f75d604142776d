package io.dbmigrate.deploy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts long-lived child processes that outlive the CLI, and stops exactly those again by their recorded PID.
 * Each child runs in its own session (setsid) so a Ctrl-C in the terminal that ran {@code stack up} does not
 * reach it; its output goes to its log file.
 */
public final class ChildProcess {
    private ChildProcess() {}

    public static long spawn(List<String> command, Map<String, String> env, Path log, Path pidFile) {
        List<String> cmd = new ArrayList<>();
        cmd.add("setsid");
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            writePid(pidFile, p.pid());
            return p.pid();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
    }

    public static void writePid(Path pidFile, long pid) {
        try {
            Files.createDirectories(pidFile.getParent());
            Files.writeString(pidFile, Long.toString(pid), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The recorded process, if it is still alive. */
    public static Optional<ProcessHandle> recorded(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    public static Optional<Long> recordedPid(Path pidFile) {
        return recorded(pidFile).map(ProcessHandle::pid);
    }

    /** SIGTERM, then SIGKILL after the grace period; descendants too. Removes the PID file. */
    public static void stop(Path pidFile, Duration grace) {
        Optional<ProcessHandle> handle = recorded(pidFile);
        if (handle.isPresent()) {
            terminate(handle.get(), grace);
        }
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void terminate(ProcessHandle process, Duration grace) {
        List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
        process.destroy();
        long deadline = System.nanoTime() + grace.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            sleep(50);
        }
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        for (ProcessHandle child : family) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
        long killDeadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while ((process.isAlive() || family.stream().anyMatch(ProcessHandle::isAlive)) && System.nanoTime() < killDeadline) {
            sleep(20);
        }
    }

    /** Runs a command to completion; returns its output, or throws with the output when it fails. */
    public static String run(List<String> command, Map<String, String> env, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new StackException(String.join(" ", command) + " did not finish within " + timeout);
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new StackException(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new StackException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while running " + command.get(0), e);
        }
    }

    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public static String classpathOf(Path libDir) {
        return libDir.toAbsolutePath() + File.separator + "*";
    }

    /** The last lines of a log, for error messages. */
    public static String tail(Path log, int lines) {
        try {
            if (!Files.isRegularFile(log)) {
                return "(no log at " + log + ")";
            }
            List<String> all = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted", e);
        }
    }
}
