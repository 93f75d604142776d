package io.dbmigrate.deploy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where an optional component's program is: an environment variable names it, else Debian's path, else PATH. */
final class InstalledBinary {
    private InstalledBinary() {}

    static Optional<Path> find(String envVar, Path debian, String name) {
        String env = System.getenv(envVar);
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        if (Files.isExecutable(debian)) {
            return Optional.of(debian);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Optional.of(Path.of(dir, name));
            }
        }
        return Optional.empty();
    }
}
