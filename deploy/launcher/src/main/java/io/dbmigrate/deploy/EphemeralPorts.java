package io.dbmigrate.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's ephemeral port range: the local ports it hands to outgoing connections of every process (Kafka
 * clients, JDBC, Connect). A listener on a fixed port inside it fails now and then with "Address already in use"
 * although nothing listens there, so the stack refuses such ports.
 *
 * @param note set when the range was not read from the kernel, saying what was assumed instead
 */
public record EphemeralPorts(int first, int last, String note) {
    public static final Path RANGE_FILE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    // Linux's built-in default, used only where the kernel does not publish its range (no /proc, not Linux)
    static final int LINUX_DEFAULT_FIRST = 32768;
    static final int LINUX_DEFAULT_LAST = 60999;

    public static EphemeralPorts read() {
        return read(RANGE_FILE);
    }

    static EphemeralPorts read(Path file) {
        if (!Files.exists(file)) {
            return new EphemeralPorts(LINUX_DEFAULT_FIRST, LINUX_DEFAULT_LAST, file + " does not exist: assuming Linux's default "
                    + "ephemeral port range " + LINUX_DEFAULT_FIRST + "-" + LINUX_DEFAULT_LAST);
        }
        try {
            return parse(ProcFiles.read(file), file.toString());
        } catch (IOException e) {
            // the file exists, so the kernel has a range of its own: guessing could let a port inside it through
            throw new StackException("cannot read the ephemeral port range from " + file + ": " + e.getMessage());
        }
    }

    /** Parses the file's "FIRST&lt;whitespace&gt;LAST" form. */
    static EphemeralPorts parse(String text, String source) {
        String[] parts = text.trim().split("\\s+");
        try {
            if (parts.length == 2) {
                int first = Integer.parseInt(parts[0]);
                int last = Integer.parseInt(parts[1]);
                if (first >= 1 && first <= last && last <= 65535) {
                    return new EphemeralPorts(first, last, null);
                }
            }
        } catch (NumberFormatException e) {
            // reported below with the text itself
        }
        throw new StackException("cannot parse the ephemeral port range in " + source + ": '" + text.trim()
                + "' (expected two port numbers, FIRST LAST)");
    }

    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    @Override
    public String toString() {
        return first + "-" + last;
    }
}
