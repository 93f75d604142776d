package io.dbmigrate.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The part of bench snapshot that needs no stack: the data's table sizes. */
class SnapshotBenchTest {
    @Test
    void theTablesShareTheRowsExactly() {
        for (long rows : new long[] {400, 20_000, 2_000_000, 1_234_567}) {
            assertEquals(rows, SnapshotData.TABLES.stream().mapToLong(t -> t.rows(rows)).sum());
        }
    }
}
