package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading files under /proc. */
final class ProcFiles {
    private ProcFiles() {}

    /**
     * The whole file. Not {@code Files.readAllBytes}/{@code readString}: they trust the size procfs reports (0), and
     * on JDK 17 read "3" from ip_local_port_range, which holds "32768\t60999". A stream reads to the end.
     */
    static byte[] readBytes(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readAllBytes();
        }
    }

    static String read(Path file) throws IOException {
        return new String(readBytes(file), java.nio.charset.StandardCharsets.UTF_8);
    }
}
