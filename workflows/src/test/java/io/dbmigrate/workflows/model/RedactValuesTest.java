package io.dbmigrate.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class RedactValuesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PLAN = "{\"migrationId\":\"m1\",\"approval\":\"auto\","
            + "\"source\":{\"host\":\"a\",\"port\":5432,\"database\":\"d\",\"user\":\"u\",\"passwordRef\":\"env:P\"},"
            + "\"target\":{\"host\":\"b\",\"port\":5432,\"database\":\"d\",\"user\":\"u\",\"passwordRef\":\"env:P\"}";

    @Test
    void onUnlessThePlanSaysFalseAndKnownToTheValidator() throws Exception {
        MigrationPlan unset = JSON.readValue(PLAN + "}", MigrationPlan.class);
        assertTrue(unset.redactsValues());
        assertFalse(JSON.writeValueAsString(unset).contains("redactValues"), "plans without it serialize as before");

        MigrationPlan off = JSON.readValue(PLAN + ",\"redactValues\":false}", MigrationPlan.class);
        assertFalse(off.redactsValues());
        assertEquals(java.util.List.of(), PlanValidator.problems(off));
        assertFalse(off.withSnapshot("copy").reversed().redactsValues(), "kept by the plan's copies");

        StreamSpec s = new StreamSpec("m1", StreamSpec.Direction.FORWARD, off.source(), off.target(), java.util.List.of(),
                true, null, off.redactValues());
        assertFalse(JSON.readValue(JSON.writeValueAsString(s.withSnapshot(false)), StreamSpec.class).redactsValues());
        assertTrue(new StreamSpec("m1", StreamSpec.Direction.FORWARD, off.source(), off.target(), java.util.List.of(), true)
                .redactsValues());
    }
}
