package io.dbmigrate.cli;

import io.dbmigrate.activities.validation.ValidationEngine;
import picocli.CommandLine.Option;

/** The validation engine's options, shared by {@code compare} and {@code bench validate}. */
public final class ValidationOptions {
    private static final ValidationEngine.Options DEFAULTS = ValidationEngine.Options.defaults();

    @Option(names = "--chunk-rows", description = "Rows per chunk (default ${DEFAULT-VALUE}).")
    int chunkRows = DEFAULTS.chunkRows();
    @Option(names = "--parallel", description = "Sessions per side for a table's pass, and as many for the narrowing of the table before it, which runs beside (default ${DEFAULT-VALUE}).")
    int parallel = DEFAULTS.parallel();
    @Option(names = "--max-rows-per-sec", description = "Read at most this many rows per second per side (0: no limit).")
    long maxRowsPerSec = DEFAULTS.maxRowsPerSec();
    @Option(names = "--max-keys", description = "Differing keys listed per table; all are counted (default ${DEFAULT-VALUE}).")
    int maxKeys = DEFAULTS.maxKeys();

    public ValidationEngine.Options options() {
        return DEFAULTS.withChunkRows(chunkRows).withParallel(parallel).withMaxRowsPerSec(maxRowsPerSec).withMaxKeys(maxKeys);
    }
}
