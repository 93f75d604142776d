package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dbmigrate.validation.TwoClusters;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code ./dbmigrate bench validate}, small, on the two clusters only: every figure is there, every difference made is
 * found with its kind, and nothing else is reported. Speeds are not tested here.
 */
class BenchValidateIT {
    @Test
    void findsEveryInjectedDifferenceAndNothingElse() throws Exception {
        TwoClusters.get();
        StackIT.Result run = StackIT.printed("bench", "validate", "--home", TwoClusters.HOME.toString(), "--rows", "40000",
                "--chunk-rows", "2000", "--json");
        JsonNode r = StackIT.lastLineJson(run.out());
        for (String field : List.of("rows", "seconds", "rowsPerSec", "baselineRowsPerSec", "ratioVsBaseline", "injected", "found",
                "falsePositives", "peakHeapMb", "cpuSeconds", "baselineCpuSeconds")) {
            assertTrue(r.has(field), "no " + field + " in " + r);
        }
        assertTrue(r.get("cpuSeconds").asDouble() > 0 && r.get("baselineCpuSeconds").asDouble() > 0, r.toString());
        // CPU is counted in both clusters (their backends and parallel workers) as well as in the bench's JVM
        assertTrue(run.err().lines().anyMatch(l -> l.contains("CPU:") && l.contains("source-postgres") && l.contains("target-postgres")),
                run.err());
        assertEquals(1, run.out().strip().lines().count(), "with --json stdout holds only the JSON line: " + run.out());
        assertEquals(40000, r.get("rows").asLong(), "the source's rows: " + r);
        assertEquals(50, r.get("injected").asInt(), r.toString());
        assertEquals(r.get("injected").asInt(), r.get("found").asInt(), r.toString());
        assertEquals(0, r.get("falsePositives").asInt(), r.toString());
        assertTrue(r.get("chunks").asInt() > 20, "several chunks a table: " + r);
        assertEquals(0, run.exit(), run.err());
    }
}
