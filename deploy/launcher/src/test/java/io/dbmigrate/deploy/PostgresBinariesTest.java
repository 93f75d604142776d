package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded binaries (io.zonky.test, PostgreSQL 17) unpack once, whoever asks first, and never half. */
class PostgresBinariesTest {

    private static String version(Path bin) {
        return ChildProcess.run(List.of(bin.resolve("initdb").toString(), "--version"), Map.of(), Duration.ofSeconds(30));
    }

    /**
     * The source and the target cluster of one `stack up` ask at the same moment. Before, both untarred into the same
     * directory: one failed ("cannot unpack"), the other's initdb with "Text file busy".
     */
    @Test
    void twoClustersAskingAtOnceGetOneCompleteUnpack(@TempDir Path home) throws Exception {
        Path target = home.resolve("pgbin");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        Callable<Path> ask = () -> {
            go.await();
            return PostgresBinaries.unpackEmbedded(target);
        };
        try {
            Future<Path> a = pool.submit(ask);
            Future<Path> b = pool.submit(ask);
            go.countDown();
            assertEquals(a.get(), b.get());
            assertTrue(version(a.get()).contains("(PostgreSQL) 17."), version(a.get()));
        } finally {
            pool.shutdownNow();
        }
        assertTrue(Files.isRegularFile(target.resolve(PostgresBinaries.COMPLETE_MARKER)));
        try (Stream<Path> siblings = Files.list(home)) {
            assertEquals(List.of("pgbin", "pgbin.lock"), siblings.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no staging directory is left behind");
        }
        // the server runs as another user: it must be able to enter the directory
        assertTrue(Files.getPosixFilePermissions(target).containsAll(PosixFilePermissions.fromString("r-xr-xr-x")),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    /** A run interrupted half-way left a bin/initdb that is not PostgreSQL's: it is detected and replaced. */
    @Test
    void aHalfUnpackedDirectoryIsReplaced(@TempDir Path home) throws Exception {
        Path target = home.resolve("pgbin");
        Files.createDirectories(target.resolve("bin"));
        Path stub = Files.writeString(target.resolve("bin/initdb"), "#!/bin/sh\necho half-unpacked\n");
        Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));

        Path bin = PostgresBinaries.unpackEmbedded(target);

        assertTrue(version(bin).contains("(PostgreSQL) 17."), version(bin));
        assertTrue(Files.isExecutable(bin.resolve("pg_ctl")));
        assertTrue(Files.isRegularFile(target.resolve(PostgresBinaries.COMPLETE_MARKER)));
    }

    /**
     * DBMIGRATE_PG_BIN=embedded (here its system property) takes the embedded binaries even on a machine that has its
     * own: how CI runs the path of a machine without PostgreSQL.
     */
    @Test
    void embeddedIsChosenOverTheMachinesOwnWhenAsked(@TempDir Path home) {
        String before = System.getProperty(PostgresBinaries.PROPERTY);
        try {
            System.setProperty(PostgresBinaries.PROPERTY, PostgresBinaries.EMBEDDED);
            PostgresBinaries pg = PostgresBinaries.locate(home);
            assertEquals(home.resolve("pgbin/bin"), pg.bin());
            assertTrue(pg.origin().contains("DBMIGRATE_PG_BIN=embedded"), pg.origin());
            assertTrue(version(pg.bin()).contains("(PostgreSQL) 17."), version(pg.bin()));

            System.setProperty(PostgresBinaries.PROPERTY, home.resolve("nothing-here").toString());
            StackException wrong = org.junit.jupiter.api.Assertions.assertThrows(StackException.class, () -> PostgresBinaries.locate(home));
            assertTrue(wrong.getMessage().contains("has no executable initdb") && wrong.getMessage().contains("embedded"), wrong.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(PostgresBinaries.PROPERTY);
            } else {
                System.setProperty(PostgresBinaries.PROPERTY, before);
            }
        }
    }
}
