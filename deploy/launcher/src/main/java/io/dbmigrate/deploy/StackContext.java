package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import io.dbmigrate.workflows.codec.CodecKeys;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.function.Supplier;
import java.util.HexFormat;

/** What every component needs: where things live, which ports, the local stack's database password and codec key. */
public record StackContext(StackLayout layout, StackPorts ports) {

    public static final String PG_SUPERUSER = "postgres";

    /** The password file of the local clusters' superuser; plans refer to it as {@code file:PATH}. */
    public Path postgresPasswordFile() {
        return layout.secrets().resolve("postgres-password");
    }

    public String postgresPassword() {
        return readOrCreate(postgresPasswordFile(), () -> {
            byte[] random = new byte[12];
            new SecureRandom().nextBytes(random);
            return HexFormat.of().formatHex(random);
        });
    }

    /** The payload codec's key file the worker and the CLI share ({@code DBMIGRATE_CODEC_KEY=file:PATH}). */
    public Path codecKeyFile() {
        return layout.secrets().resolve("codec-key");
    }

    /** Creates the codec key file with one fresh key unless it exists (a restarted stack keeps reading its history). */
    public Path codecKey() {
        readOrCreate(codecKeyFile(), CodecKeys::generate);
        return codecKeyFile();
    }

    /** Where the stack's worker writes the live validation's reports. */
    public Path reportDir() {
        return layout.home().resolve("reports");
    }

    private static String readOrCreate(Path f, Supplier<String> secret) {
        synchronized (StackContext.class) {
            try {
                if (!Files.exists(f)) {
                    Files.createDirectories(f.getParent());
                    Path tmp = Files.createTempFile(f.getParent(), f.getFileName().toString(), ".tmp",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(tmp, secret.get());
                    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE);
                }
                return Files.readString(f).trim();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read or create " + f, e);
            }
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
