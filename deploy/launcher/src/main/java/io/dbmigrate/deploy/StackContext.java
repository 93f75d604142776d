package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/** What every component needs: where things live, which ports, and the local stack's one database password. */
public record StackContext(StackLayout layout, StackPorts ports) {

    public static final String PG_SUPERUSER = "postgres";

    /** The password file of the local clusters' superuser; plans refer to it as {@code file:PATH}. */
    public Path postgresPasswordFile() {
        return layout.secrets().resolve("postgres-password");
    }

    public String postgresPassword() {
        synchronized (StackContext.class) {
            return readOrCreatePassword();
        }
    }

    private String readOrCreatePassword() {
        Path f = postgresPasswordFile();
        try {
            if (!Files.exists(f)) {
                Files.createDirectories(f.getParent());
                byte[] random = new byte[12];
                new SecureRandom().nextBytes(random);
                Files.writeString(f, HexFormat.of().formatHex(random));
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
            }
            return Files.readString(f).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create " + f, e);
        }
    }

    /** PgBouncer's configuration directory, owned by the OS user PgBouncer runs as (see {@link PgBouncerComponent}). */
    public Path pgbouncerConfDir() {
        return layout.home().resolve("conf").resolve("pgbouncer");
    }

    /** The {@code [databases]} fragment pgbouncer.ini includes; rewritten by the worker at a pgbouncer switch. */
    public Path pgbouncerDatabasesFile() {
        return pgbouncerConfDir().resolve("databases.ini");
    }

    public String jdbcUrl(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }
}
