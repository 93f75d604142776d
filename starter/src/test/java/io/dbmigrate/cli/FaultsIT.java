package io.dbmigrate.cli;

import io.dbmigrate.it.ItPorts;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Three cells of the fault matrix ({@code ./dbmigrate bench faults}) on every build: the worker killed (-9) in the
 * snapshot and in the cutover, Kafka Connect killed while streaming. The matrix runs once; each cell is its own test,
 * and each of its checks is reported on its own (which one failed reads in the test's name and message).
 */
class FaultsIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-faults");
    // its own port block below the ephemeral range (see StackIT.PORT_BLOCK)
    static final String[] PORTS = ItPorts.block(29).asOptions().toArray(String[]::new);
    static final String CELLS = "worker:snapshot,worker:cutover,connect:streaming";

    static JsonNode matrix;

    @BeforeAll
    static void runTheCells() throws Exception {
        StackIT.up(HOME, PORTS);
        StackIT.Result r = StackIT.printed("bench", "faults", "--home", HOME.toString(), "--cells", CELLS,
                "--rows", "5000", "--writes-per-sec", "50", "--cell-timeout", "180", "--json");
        matrix = StackIT.lastLineJson(r.out());
    }

    @AfterAll
    static void down() {
        StackIT.cli("stack", "down", "--home", HOME.toString());
    }

    @Test
    @DisplayName("worker kill -9 in snapshot: COMPLETED, 0 lost, 0 leftovers")
    void workerKilledInSnapshot() {
        assertCell("worker", "snapshot");
    }

    /**
     * A worker killed inside the write pause is replaced within seconds, and the applier within its 10 s heartbeat
     * timeout, so the cutover usually completes inside the 30 s pause. When the replacement comes too late the only
     * safe outcome is the one the workflow takes: give up at the deadline and reopen the source (docs/benchmarks.md).
     * Any other end, a lost write or a leftover fails.
     */
    @Test
    @DisplayName("worker kill -9 in cutover: COMPLETED (or reopened at the pause's deadline), 0 lost, 0 leftovers")
    void workerKilledInCutover() {
        assertCell("worker", "cutover", "write pause reached cutover.maxWritePauseSeconds");
    }

    @Test
    @DisplayName("connect kill -9 while streaming: COMPLETED, 0 lost, 0 leftovers")
    void connectKilledWhileStreaming() {
        assertCell("connect", "streaming");
    }

    @Test
    @DisplayName("the last line counts what the cells say")
    void summaryAddsUp() {
        assertEquals(3, matrix.get("runs").asInt(), matrix.toString());
        assertEquals(3, matrix.get("cells").size(), matrix.toString());
        long lost = StreamSupport.stream(matrix.get("cells").spliterator(), false).mapToLong(c -> c.get("lostWrites").asLong()).sum();
        assertEquals(lost, matrix.get("lostWrites").asLong(), matrix.toString());
    }

    static void assertCell(String component, String phase) {
        assertCell(component, phase, null);
    }

    /** {@code safeRollback}: the start of the one rollback reason this cell documents as safe, or null for none. */
    static void assertCell(String component, String phase, String safeRollback) {
        JsonNode cell = StreamSupport.stream(matrix.get("cells").spliterator(), false)
                .filter(c -> c.get("component").asText().equals(component) && c.get("phase").asText().equals(phase))
                .findFirst().orElse(null);
        String name = "[" + component + ":" + phase + "] ";
        assertNotNull(cell, name + "not in the matrix: " + matrix);
        assertAll(name + cell,
                () -> assertTrue(cell.get("landed").asBoolean(),
                        name + "the fault did not land in " + phase + " (phase at fault: " + cell.get("phaseAtFault") + ")"),
                () -> assertTrue(cell.get("outcome").asText().equals("COMPLETED") || safeRollback != null
                        && cell.get("outcome").asText().equals("ROLLED_BACK")
                        && cell.get("reason").asText().contains(safeRollback),
                        name + "outcome " + cell.get("outcome") + "; reason: " + cell.get("reason")),
                () -> assertEquals(0, cell.get("lostWrites").asLong(), name + "acknowledged writes missing"),
                () -> assertEquals(0, cell.get("leftovers").size(), name + "leftovers " + cell.get("leftovers")),
                () -> assertEquals(0, cell.get("unansweredQueries").asInt(),
                        name + "status queries that no worker answered after the recovery (counts as stuck)"),
                () -> assertTrue(cell.get("acknowledgedWrites").asLong() > 100, name + "the live writer hardly wrote"));
    }
}
