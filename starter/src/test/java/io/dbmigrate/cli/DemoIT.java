package io.dbmigrate.cli;

import io.dbmigrate.it.ItPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The README's first command, for real, small: a completed migration under live writes, and one rolled back at cutover. */
class DemoIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-demo");
    // its own port block (see StackIT.PORT_BLOCK)
    static final String[] PORTS = ItPorts.block(27).asOptions().toArray(String[]::new);

    @BeforeAll
    static void up() {
        StackIT.up(HOME, PORTS);
    }

    @AfterAll
    static void down() {
        StackIT.cli("stack", "down", "--home", HOME.toString());
    }

    /** CI installs PgBouncer (.ci/run); the stack then runs it and the demo's application connects through it. */
    static final boolean PGBOUNCER = java.nio.file.Files.isExecutable(Path.of("/usr/sbin/pgbouncer"));

    static JsonNode demo(String... extra) throws Exception {
        String[] args = StackIT.with(new String[] {"demo", "--home", HOME.toString(), "--rows", "3000", "--writes-per-sec", "50", "--json"}, extra);
        return StackIT.lastLineJson(StackIT.printed(args).out());
    }

    @Test
    void migratesUnderLiveWritesWithoutLosingOne() throws Exception {
        JsonNode r = demo();
        assertEquals("COMPLETED", r.get("status").asText(), r.toString());
        assertEquals(0, r.get("lostWrites").asLong(), r.toString());
        assertTrue(r.get("acknowledgedWrites").asLong() > 100, r.toString());
        assertTrue(r.get("checksumsMatch").asBoolean(), r.toString());
        // counted at the end: the writer went on writing on the target after finalize, so the sides differ by then
        assertTrue(r.get("rowsSource").asLong() > 3000 && r.get("rowsTarget").asLong() > 3000, r.toString());
        assertEquals(4, r.get("tables").asInt());
        assertTrue(r.get("leftovers").isEmpty(), r.toString());
        assertTrue(r.get("writePauseMs").asLong() > 0, "the writer must have waited at the switch: " + r);
        assertEquals(PGBOUNCER ? "pgbouncer" : "fence", r.get("strategy").asText(), r.toString());
        if (PGBOUNCER) {
            // clients wait in PAUSE instead of being refused, and are moved without noticing
            assertEquals(0, r.get("failedWrites").asLong(), r.toString());
            assertTrue(r.get("clientMaxWaitMs").asLong() > 0, r.toString());
        }
        assertEquals("finalized", r.get("fallback").asText(), r.toString());
        assertTrue(r.get("sourceRefusesWrites").asBoolean(), "after the switch the old source must refuse writes: " + r);
        encryptedInHistory(r.get("migrationId").asText());
    }

    /**
     * The stack gives the worker and the CLI one codec key: the server holds the plan encrypted (read here without the
     * key, by naming the server with --temporal), and `history` decodes it with the key. Search attributes stay plain:
     * the server indexes them.
     */
    static void encryptedInHistory(String id) throws Exception {
        int port = ItPorts.block(27).temporal();
        String raw = StackIT.cli("history", id, "--home", HOME.toString(), "--temporal", "127.0.0.1:" + port).out();
        String decoded = StackIT.cli("history", id, "--home", HOME.toString()).out();
        assertEquals("binary/encrypted", planEncoding(raw));
        assertEquals("json/plain", planEncoding(decoded));
        assertTrue(!decoded.contains(java.util.Base64.getEncoder().encodeToString("binary/encrypted".getBytes())),
                "every payload decoded");
    }

    private static String planEncoding(String historyJson) throws Exception {
        JsonNode started = new com.fasterxml.jackson.databind.ObjectMapper().readTree(historyJson).get("events").get(0)
                .get("workflowExecutionStartedEventAttributes");
        String encoding = started.get("input").get("payloads").get(0).get("metadata").get("encoding").asText();
        return new String(java.util.Base64.getDecoder().decode(encoding));
    }

    /**
     * The way back, with the fence (the application moves itself, both ways): after the switch the writer writes to
     * the target, then a rollback brings every write home.
     */
    @Test
    void rollbackAfterCutoverKeepsEveryWriteMadeOnTheTarget() throws Exception {
        JsonNode r = demo("--rollback-after-cutover", "--strategy", "fence");
        assertEquals("fence", r.get("strategy").asText(), r.toString());
        assertEquals("ROLLED_BACK_AFTER_CUTOVER", r.get("status").asText(), r.toString());
        assertEquals("rolled-back", r.get("fallback").asText(), r.toString());
        assertEquals(0, r.get("lostWrites").asLong(), "counted on the source: " + r);
        assertTrue(r.get("acknowledgedWrites").asLong() > 100, r.toString());
        assertTrue(r.get("leftovers").isEmpty(), r.toString());
    }

    @Test
    void failureAtCutoverRollsBackAndLeavesNothing() throws Exception {
        JsonNode r = demo("--fail-at", "cutover", "--strategy", "fence");
        assertEquals("ROLLED_BACK", r.get("status").asText(), r.toString());
        assertEquals(0, r.get("lostWrites").asLong(), r.toString());
        assertTrue(r.get("leftovers").isEmpty(), r.toString());
        assertEquals("[\"UnfenceSourceWrites\",\"TeardownReverseCapture\",\"StopApplier\",\"TeardownCapture\",\"CleanupTarget\","
                + "\"DropCreatedTargetTables\"]",
                r.get("compensations").toString());
    }
}
