package io.dbmigrate.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./dbmigrate}: the operator's entry point. */
@Command(name = "dbmigrate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Zero-downtime PostgreSQL-to-PostgreSQL migration, orchestrated by Temporal.",
        subcommands = {StackCommand.class, io.dbmigrate.cli.bench.BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(cmd.getColorScheme().errorText("error: " + ex.getMessage()));
            return 1;
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"dbmigrate " + (v == null ? "dev" : v)};
        }
    }
}
