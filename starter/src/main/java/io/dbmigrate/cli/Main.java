package io.dbmigrate.cli;

import io.dbmigrate.cli.bench.BenchCommand;
import io.dbmigrate.cli.demo.DemoCommand;
import io.dbmigrate.cli.migrate.MigrationCommands;
import io.dbmigrate.cli.migrate.Watch;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./dbmigrate}: the operator's entry point. */
@Command(name = "dbmigrate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Zero-downtime PostgreSQL-to-PostgreSQL migration, orchestrated by Temporal.",
        subcommands = {DemoCommand.class, MigrationCommands.Start.class, MigrationCommands.Status.class, Watch.class,
                MigrationCommands.Approve.class, MigrationCommands.Validate.class, MigrationCommands.Rollback.class, MigrationCommands.Finalize.class,
                MigrationCommands.Abort.class, MigrationCommands.History.class,
                StackCommand.class, CompareCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
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
