package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds PostgreSQL server binaries: {@code DBMIGRATE_PG_BIN}, else the machine's own (Debian puts them in
 * /usr/lib/postgresql/VERSION/bin), else the embedded binaries from Maven Central (io.zonky.test), unpacked once
 * into the stack home.
 */
public final class PostgresBinaries {
    private static final String ZONKY_ARCHIVE = "postgres-linux-x86_64.txz";

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
        String override = System.getenv("DBMIGRATE_PG_BIN");
        if (override != null && !override.isBlank()) {
            Path p = Path.of(override);
            if (!Files.isExecutable(p.resolve("initdb"))) {
                throw new StackException("DBMIGRATE_PG_BIN=" + override + " has no executable initdb");
            }
            return new PostgresBinaries(p, "DBMIGRATE_PG_BIN");
        }
        Optional<Path> system = systemBinaries();
        if (system.isPresent()) {
            return new PostgresBinaries(system.get(), "system");
        }
        return new PostgresBinaries(unpackEmbedded(home.resolve("pgbin")), "embedded (io.zonky.test)");
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

    private static Path unpackEmbedded(Path target) {
        Path bin = target.resolve("bin");
        if (Files.isExecutable(bin.resolve("initdb"))) {
            return bin;
        }
        try (InputStream in = PostgresBinaries.class.getClassLoader().getResourceAsStream(ZONKY_ARCHIVE)) {
            if (in == null) {
                throw new StackException("no PostgreSQL server found (looked in /usr/lib/postgresql and DBMIGRATE_PG_BIN) "
                        + "and the embedded binaries jar is not on the classpath: install postgresql-15 or rebuild");
            }
            Files.createDirectories(target);
            Path archive = target.resolve(ZONKY_ARCHIVE);
            Files.copy(in, archive, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            ChildProcess.run(List.of("tar", "-xJf", archive.toString(), "-C", target.toString()), Map.of(), Duration.ofMinutes(2));
            Files.delete(archive);
            // the unprivileged user that runs the server must be able to read and execute them
            ChildProcess.run(List.of("chmod", "-R", "a+rX", target.toString()), Map.of(), Duration.ofSeconds(30));
            return bin;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the embedded PostgreSQL binaries into " + target, e);
        }
    }
}
