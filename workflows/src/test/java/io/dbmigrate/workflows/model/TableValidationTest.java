package io.dbmigrate.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** recheckedKeys is optional: reports written before it existed still read, and whole-table results do not carry it. */
class TableValidationTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aReportWithoutRecheckedKeysStillReads() throws Exception {
        TableValidation t = json.readValue("{\"table\":\"public.a\",\"sourceRows\":3,\"targetRows\":3,\"chunks\":1,\"mismatchedChunks\":[]}",
                TableValidation.class);
        assertEquals(new TableValidation("public.a", 3, 3, 1, List.of()), t);
        assertNull(t.recheckedKeys());
    }

    @Test
    void recheckedKeysAppearOnlyWhenSet() throws Exception {
        assertFalse(json.writeValueAsString(new TableValidation("public.a", 3, 3, 1, List.of())).contains("recheckedKeys"));
        TableValidation byKeys = new TableValidation("public.a", 49, 50, 0, List.of("key (7)"), 50);
        assertEquals(byKeys, json.readValue(json.writeValueAsString(byKeys), TableValidation.class));
    }
}
