package io.dbmigrate.cli;

import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the local stack lives; shared by every command that talks to it. */
public final class StackOptions {
    @Option(names = "--home", paramLabel = "DIR", defaultValue = "${env:DBMIGRATE_HOME:-.dbmigrate}",
            description = "Stack home: data, logs and PIDs of every component (default: ${DEFAULT-VALUE}).")
    Path home;

    public StackLayout layout() {
        String root = System.getProperty("dbmigrate.root");
        Path repo = root != null ? Path.of(root) : StackLayout.findRepoRoot(Path.of(""));
        return new StackLayout(home, repo);
    }

    /** The stack at the requested ports (null: those recorded), with monitoring when it was brought up with it. */
    public LocalStack stack(StackPorts requested) {
        return stack(requested, LocalStack.recordedMonitoring(layout()));
    }

    public LocalStack stack(StackPorts requested, boolean monitoring) {
        StackLayout layout = layout();
        StackPorts ports = requested != null ? requested : LocalStack.recordedPorts(layout, StackPorts.defaults());
        return new LocalStack(layout, ports, System.getProperty("java.class.path"), monitoring);
    }
}
