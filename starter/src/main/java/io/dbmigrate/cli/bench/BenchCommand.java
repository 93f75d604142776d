package io.dbmigrate.cli.bench;

import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print their figures.",
        subcommands = {BenchStreamCommand.class, BenchFaultsCommand.class, BenchSnapshotCommand.class, BenchValidateCommand.class})
public final class BenchCommand {}
