package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the stack keeps things. Everything a running stack writes lives under {@code home}; the programs it runs
 * come from the build ({@code distRoot}, the repository root).
 */
public record StackLayout(Path home, Path distRoot) {

    public StackLayout {
        home = home.toAbsolutePath().normalize();
        distRoot = distRoot.toAbsolutePath().normalize();
    }

    public Path logs() {
        return home.resolve("logs");
    }

    public Path log(String component) {
        return logs().resolve(component + ".log");
    }

    public Path pidFile(String component) {
        return home.resolve("run").resolve(component + ".pid");
    }

    public Path data(String component) {
        return home.resolve("data").resolve(component);
    }

    public Path conf(String file) {
        return home.resolve("conf").resolve(file);
    }

    public Path secrets() {
        return home.resolve("secrets");
    }

    public Path stateFile() {
        return home.resolve("stack.json");
    }

    public Path kafkaLib() {
        return requireBuilt(distRoot.resolve("deploy/kafka-dist/target/lib"));
    }

    public Path connectPlugins() {
        return requireBuilt(distRoot.resolve("deploy/kafka-dist/target/plugins"));
    }

    /** The Prometheus JMX exporter java agent, laid out by deploy/kafka-dist; Connect runs with it under monitoring. */
    public Path jmxExporterAgent() {
        return requireBuilt(distRoot.resolve("deploy/kafka-dist/target/agents")).resolve("jmx_prometheus_javaagent.jar");
    }

    /** The alert rules, the dashboard and the JMX exporter's rules (deploy/monitoring in the repository). */
    public Path monitoringFiles() {
        return distRoot.resolve("deploy/monitoring");
    }

    /** Present while a stack brought up with {@code --with-monitoring} runs; removed by {@code stack down}. */
    public Path monitoringMarker() {
        return home.resolve("run").resolve("monitoring");
    }

    public Path temporalLib() {
        return requireBuilt(distRoot.resolve("deploy/temporal-dist/target/lib"));
    }

    public void createDirectories() {
        try {
            Files.createDirectories(logs());
            Files.createDirectories(home.resolve("run"));
            Files.createDirectories(home.resolve("data"));
            Files.createDirectories(home.resolve("conf"));
            Files.createDirectories(secrets());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the stack home " + home, e);
        }
    }

    private static Path requireBuilt(Path p) {
        if (!Files.isDirectory(p)) {
            throw new StackException(p + " is missing: build first (mvn -B -DskipTests package, or just run ./dbmigrate)");
        }
        return p;
    }

    /** Finds the repository root from a directory inside it (tests run in module directories). */
    public static Path findRepoRoot(Path start) {
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("dbmigrate")) && Files.isDirectory(p.resolve("deploy"))) {
                return p;
            }
        }
        throw new StackException("cannot find the dbmigrate repository above " + start + "; set -Ddbmigrate.root");
    }
}
