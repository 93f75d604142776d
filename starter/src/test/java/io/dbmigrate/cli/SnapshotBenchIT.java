package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dbmigrate.cli.bench.SnapshotData;
import io.dbmigrate.it.ItPorts;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code ./dbmigrate bench snapshot}, small, end to end: every figure of the last line is there, the rows are the
 * generated ones, and every copy path left a target equal to the source. Speeds are not tested here.
 */
class SnapshotBenchIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-snapshot-bench");
    // its own port block (see ItPorts)
    static final String[] PORTS = ItPorts.block(24).asOptions().toArray(String[]::new);
    static final long ROWS = 20_000;

    static StackIT.Result run;
    static JsonNode result;

    @BeforeAll
    static void runTheBench() throws Exception {
        StackIT.up(HOME, PORTS);
        run = StackIT.printed("bench", "snapshot", "--home", HOME.toString(), "--rows", Long.toString(ROWS), "--json");
        result = StackIT.lastLineJson(run.out());
    }

    @AfterAll
    static void down() {
        StackIT.cli("stack", "down", "--home", HOME.toString());
    }

    @Test
    void everyFigureIsThere() {
        for (String field : List.of("rows", "bytes", "seconds", "rowsPerSec", "rawCopyRowsPerSec", "pgcopydbRowsPerSec",
                "debeziumRowsPerSec", "ratioVsRawCopy", "ratioVsPgcopydb", "verified", "unavailable", "leftovers")) {
            assertTrue(result.has(field), "no " + field + " in " + result);
        }
        assertEquals(1, run.out().strip().lines().count(), "with --json stdout holds only the JSON line: " + run.out());
        assertEquals(0, run.exit(), run.err());
    }

    @Test
    void rowsAreTheGeneratedOnes() {
        assertEquals(ROWS, result.get("rows").asLong(), result.toString());
        assertEquals(ROWS, SnapshotData.TABLES.stream().mapToLong(t -> t.rows(ROWS)).sum());
        assertTrue(result.get("bytes").asLong() > ROWS * 100, "bytes " + result.get("bytes"));
    }

    @Test
    void everyCopyPathLeftTheTargetEqualToTheSource() {
        JsonNode v = result.get("verified");
        JsonNode pgcopydb = v.get("pgcopydb");
        assertAll(result.toString(),
                () -> assertTrue(v.get("dbmigrate").asBoolean(), "dbmigrate's snapshot"),
                () -> assertTrue(v.get("rawCopy").asBoolean(), "the raw COPY pipe"),
                () -> assertTrue(v.get("debezium").asBoolean(), "dbmigrate with the Debezium snapshot"),
                // pgcopydb may be unavailable (no package, or a pg_dump older than the server): then it says why
                () -> assertTrue(pgcopydb.asBoolean() || pgcopydb.isNull() && result.get("unavailable").has("pgcopydb"),
                        "pgcopydb"),
                () -> assertTrue(result.get("leftovers").isEmpty(), "leftovers after the migrations' rollbacks"));
    }

    @Test
    void everyVerifiedPathHasASpeed() {
        assertAll(result.toString(),
                () -> assertTrue(result.get("seconds").asDouble() > 0),
                () -> assertTrue(result.get("rowsPerSec").asLong() > 0),
                () -> assertTrue(result.get("rawCopyRowsPerSec").asLong() > 0),
                () -> assertTrue(result.get("debeziumRowsPerSec").asLong() > 0),
                () -> assertEquals(result.get("pgcopydbRowsPerSec").isNull(), result.get("ratioVsPgcopydb").isNull()),
                () -> assertEquals(result.get("rowsPerSec").asDouble() / result.get("rawCopyRowsPerSec").asDouble(),
                        result.get("ratioVsRawCopy").asDouble(), 0.01));
    }
}
