package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds PostgreSQL server binaries: {@code DBMIGRATE_PG_BIN} (a directory, or {@code embedded}), else the machine's
 * own (Debian puts them in /usr/lib/postgresql/VERSION/bin), else the embedded binaries from Maven Central
 * (io.zonky.test), unpacked once into the stack home.
 */
public final class PostgresBinaries {
    private static final String ZONKY_ARCHIVE = "postgres-linux-x86_64.txz";
    /** A directory holding initdb, pg_ctl and postgres; or {@link #EMBEDDED}. */
    public static final String ENV = "DBMIGRATE_PG_BIN";
    /** The same choice as {@link #ENV} from inside a JVM (the integration tests); it wins over the environment. */
    public static final String PROPERTY = "dbmigrate.pgBin";
    /** Use the embedded binaries even where the machine has its own: what a machine without PostgreSQL gets. */
    public static final String EMBEDDED = "embedded";

    private final Path bin;
    private final String origin;

    private PostgresBinaries(Path bin, String origin) {
        this.bin = bin;
        this.origin = origin;
    }

    public Path bin() {
        return bin;
    }

    public String origin() {
        return origin;
    }

    public String tool(String name) {
        return bin.resolve(name).toString();
    }

    public static PostgresBinaries locate(Path home) {
        String override = choice();
        if (EMBEDDED.equals(override)) {
            return new PostgresBinaries(unpackEmbedded(home.resolve("pgbin")), "embedded (io.zonky.test), as " + ENV + "=" + EMBEDDED + " asks");
        }
        if (override != null) {
            Path p = Path.of(override);
            if (!Files.isExecutable(p.resolve("initdb"))) {
                throw new StackException(ENV + "=" + override + " has no executable initdb (give a directory of PostgreSQL "
                        + "server binaries, or " + EMBEDDED + " for the embedded ones)");
            }
            return new PostgresBinaries(p, ENV);
        }
        Optional<Path> system = systemBinaries();
        if (system.isPresent()) {
            return new PostgresBinaries(system.get(), "system");
        }
        return new PostgresBinaries(unpackEmbedded(home.resolve("pgbin")), "embedded (io.zonky.test)");
    }

    /** {@value #PROPERTY}, else {@value #ENV}; null when neither is set. */
    static String choice() {
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            return property.strip();
        }
        String env = System.getenv(ENV);
        return env == null || env.isBlank() ? null : env.strip();
    }

    static Optional<Path> systemBinaries() {
        Path debian = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(debian)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(debian)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(b -> parseMajor(b.getParent().getFileName().toString())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int parseMajor(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Written last into a complete unpack; a directory without it is the remains of an interrupted run. */
    static final String COMPLETE_MARKER = ".dbmigrate-complete";
    /** Threads of one JVM: a FileChannel lock is per process and throws when the same JVM asks twice. */
    private static final Object UNPACK = new Object();

    /**
     * Unpacks once, whatever starts first: the source and the target cluster of one {@code stack up} (and two CLIs
     * started at once) ask for the binaries together. Under a lock (per JVM, then a file lock across processes) the
     * archive goes into a fresh sibling directory, gets its completion marker, and is renamed into place in one step;
     * a {@code target} left half-unpacked by an interrupted run (no marker) is removed first.
     */
    static Path unpackEmbedded(Path target) {
        Path bin = target.resolve("bin");
        if (Files.isRegularFile(target.resolve(COMPLETE_MARKER))) {
            return bin;
        }
        synchronized (UNPACK) {
            try {
                Files.createDirectories(target.getParent());
                try (FileChannel lockFile = FileChannel.open(
                        target.resolveSibling(target.getFileName() + ".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                        FileLock ignored = lockFile.lock()) {
                    if (Files.isRegularFile(target.resolve(COMPLETE_MARKER))) {
                        return bin; // another process finished while this one waited
                    }
                    LocalStack.deleteTree(target);
                    Path staging = Files.createTempDirectory(target.getParent(), target.getFileName() + ".unpacking-");
                    try {
                        extract(staging);
                        Files.writeString(staging.resolve(COMPLETE_MARKER), "io.zonky.test embedded PostgreSQL\n");
                        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                    } finally {
                        LocalStack.deleteTree(staging);
                    }
                    return bin;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot unpack the embedded PostgreSQL binaries into " + target, e);
            }
        }
    }

    private static void extract(Path into) throws IOException {
        try (InputStream in = PostgresBinaries.class.getClassLoader().getResourceAsStream(ZONKY_ARCHIVE)) {
            if (in == null) {
                throw new StackException("no PostgreSQL server found (looked in /usr/lib/postgresql and DBMIGRATE_PG_BIN) "
                        + "and the embedded binaries jar is not on the classpath: install postgresql-15 or rebuild");
            }
            Path archive = into.resolve(ZONKY_ARCHIVE);
            Files.copy(in, archive);
            ChildProcess.run(List.of("tar", "-xJf", archive.toString(), "-C", into.toString()), Map.of(), Duration.ofMinutes(2));
            Files.delete(archive);
            // the unprivileged user that runs the server must be able to read and execute them
            ChildProcess.run(List.of("chmod", "-R", "a+rX", into.toString()), Map.of(), Duration.ofSeconds(30));
        }
    }
}
