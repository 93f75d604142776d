package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dbmigrate.deploy.PostgresBinaries;
import io.dbmigrate.it.ItPorts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's first command on a machine without PostgreSQL (issue 20): the stack runs on the embedded binaries from
 * Maven Central (DBMIGRATE_PG_BIN=embedded, here its system property, ignores the machine's own), which have no
 * pg_dump, and a small demo migrates through it to the end. The embedded binaries are PostgreSQL 17 while CI's
 * machine has 15: no pg_dump there could read this server either.
 */
class EmbeddedStackIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-embedded");
    // its own port block (see ItPorts)
    static final String[] PORTS = ItPorts.block(30).asOptions().toArray(String[]::new);
    static String before;

    @BeforeAll
    static void up() {
        before = System.getProperty(PostgresBinaries.PROPERTY);
        System.setProperty(PostgresBinaries.PROPERTY, PostgresBinaries.EMBEDDED);
        StackIT.cli("stack", "down", "--home", HOME.toString(), "--purge");
        StackIT.Result r = StackIT.cli(StackIT.with(new String[] {"stack", "up", "--home", HOME.toString()}, PORTS));
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @AfterAll
    static void down() {
        try {
            StackIT.cli("stack", "down", "--home", HOME.toString(), "--purge");
        } finally {
            if (before == null) {
                System.clearProperty(PostgresBinaries.PROPERTY);
            } else {
                System.setProperty(PostgresBinaries.PROPERTY, before);
            }
        }
    }

    @Test
    void aDemoMigrationCompletesOnTheEmbeddedBinaries() throws Exception {
        StackIT.Result status = StackIT.cli("stack", "status", "--json", "--home", HOME.toString());
        String components = StackIT.lastLineJson(status.out()).get("components").toString();
        assertTrue(components.contains("PostgreSQL 17."), "the clusters run the embedded PostgreSQL 17: " + components);
        assertTrue(Files.isRegularFile(HOME.resolve("pgbin/.dbmigrate-complete")), "unpacked into the stack home");

        StackIT.Result r = StackIT.cli("demo", "--home", HOME.toString(), "--rows", "2000", "--writes-per-sec", "30", "--json");
        System.out.println(r.err());
        System.out.println(r.out());
        JsonNode json = StackIT.lastLineJson(r.out());
        assertEquals("COMPLETED", json.get("status").asText(), json.toString());
        assertEquals(0, json.get("lostWrites").asLong(), json.toString());
        assertTrue(json.get("checksumsMatch").asBoolean(), json.toString());
        assertTrue(json.get("sourceRefusesWrites").asBoolean(), json.toString());
        assertTrue(json.get("leftovers").isEmpty(), json.toString());
        assertEquals(0, r.exit(), r.err());
    }
}
