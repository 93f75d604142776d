package io.dbmigrate.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The OS user that owns the local PostgreSQL clusters: ourselves, or an unprivileged user when we are root. */
public record OsUser(String name, boolean switchUser) {

    public static OsUser forPostgres() {
        if (!isRoot()) {
            return new OsUser(System.getProperty("user.name"), false);
        }
        for (String candidate : List.of("postgres", "dbmigrate")) {
            if (exists(candidate)) {
                return new OsUser(candidate, true);
            }
        }
        ChildProcess.run(List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "dbmigrate"),
                Map.of(), Duration.ofSeconds(30));
        return new OsUser("dbmigrate", true);
    }

    static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    private static boolean exists(String user) {
        try {
            ChildProcess.run(List.of("id", "-u", user), Map.of(), Duration.ofSeconds(10));
            return true;
        } catch (StackException e) {
            return false;
        }
    }

    /** Command prefix that runs the rest as this user. */
    public List<String> prefix() {
        return switchUser ? List.of("runuser", "-u", name, "--") : List.of();
    }

    public void chown(Path path) throws IOException {
        if (switchUser) {
            ChildProcess.run(List.of("chown", "-R", name, path.toString()), Map.of(), Duration.ofSeconds(60));
            if (!Files.isReadable(path)) {
                throw new IOException("cannot hand " + path + " to user " + name);
            }
        }
    }
}
