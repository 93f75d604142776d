package io.dbmigrate.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of bench snapshot that need no stack: the plan hook and the data's table sizes. */
class SnapshotBenchTest {
    static final Endpoint E = new Endpoint("127.0.0.1", 5432, "db", "postgres", "env:PGPASSWORD");
    static final MigrationPlan PLAN = new MigrationPlan("bench", E, E, List.of("public"), null, null, "manual", null, null, null);

    /** The bench measures Debezium's snapshot on its own exactly when the plan has a "snapshot" field to select it with. */
    @Test
    void selectableExactlyWhenThePlanHasTheField() {
        boolean field = Arrays.stream(MigrationPlan.class.getRecordComponents()).anyMatch(c -> c.getName().equals("snapshot"));
        assertEquals(field, SnapshotMode.selectable(PLAN, SnapshotMode.DEBEZIUM));
    }

    @Test
    void noModeLeavesThePlanAsItIs() {
        assertSame(PLAN, SnapshotMode.with(PLAN, null));
    }

    @Test
    void theModeTravelsInThePlansJson() throws Exception {
        String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(SnapshotMode.with(PLAN, "debezium"));
        assertEquals("debezium", new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("snapshot").asText(), json);
    }

    @Test
    void theTablesShareTheRowsExactly() {
        for (long rows : new long[] {400, 20_000, 2_000_000, 1_234_567}) {
            assertEquals(rows, SnapshotData.TABLES.stream().mapToLong(t -> t.rows(rows)).sum());
        }
    }
}
