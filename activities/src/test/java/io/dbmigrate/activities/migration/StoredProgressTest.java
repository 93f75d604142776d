package io.dbmigrate.activities.migration;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.validation.Progress;
import io.dbmigrate.activities.validation.ValidationEngineSizes;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Why the live validation keeps its progress on the target and heartbeats only a reference: the progress of one
 * table, at the engine's chunk cap, is above Temporal's 2 MB limit for heartbeat details; the heartbeat is not.
 */
class StoredProgressTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TWO_MB = 2 * 1024 * 1024;

    private static int size(Progress.InMemory p) throws Exception {
        return JSON.writeValueAsBytes(p).length;
    }

    @Test
    void progressOutgrowsHeartbeatDetailsWhereTheHeartbeatDoesNot() throws Exception {
        // 2,000,000 rows at the plan's default of 10,000 rows a chunk, a bigint key, both sides' passes done
        int small = size(ValidationEngineSizes.progress("public.t", 200, false));
        // the engine's cap: 65,536 chunks (a table of 655 million rows at the default chunk size)
        int bigint = size(ValidationEngineSizes.progress("public.t", 65_536, false));
        int uuid = size(ValidationEngineSizes.progress("public.t", 65_536, true));
        System.out.printf("progress JSON: 2,000,000 rows (200 chunks) %,d B; 65,536 chunks: bigint key %,d B, uuid key %,d B%n",
                small, bigint, uuid);
        assertTrue(small < 64 * 1024, "2,000,000 rows: " + small);
        assertTrue(bigint > TWO_MB && uuid > TWO_MB, "at the cap the progress exceeds 2 MB: " + bigint + ", " + uuid);
        int beat = JSON.writeValueAsBytes(ValidationBeat.of("wf/run/1", new FrozenValidation.Start(123456789L,
                "kYq3nJtPQpeGQp2qTSbx3g", Instant.now()), 40, 120, 4000, 4000, 8000)).length;
        assertTrue(beat < 1024, "the heartbeat details: " + beat);
    }
}
