package io.dbmigrate.activities.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ChangeEvent;
import io.dbmigrate.workflows.model.TableRef;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Touched keys from topic records as Debezium writes them (JsonConverter, schemas disabled, values as PostgreSQL text). */
class TouchedKeysTest {
    private static final TableRef ITEMS = new TableRef("public", "items");
    private static final TableRef LINES = new TableRef("public", "lines");
    private static final TableRef LOG = new TableRef("public", "log");
    private static final TableRef HEARTBEAT = new TableRef("dbmigrate_x", "heartbeat");

    private static TouchedKeys keys() {
        return new TouchedKeys(Map.of(ITEMS, List.of("id"), LINES, List.of("order_id", "line"), LOG, List.of()), HEARTBEAT, 100);
    }

    private static long offset = 100;

    private static ChangeEvent record(String op, TableRef t, String before, String after, String snapshot) throws Exception {
        String json = "{\"before\":" + before + ",\"after\":" + after + ",\"source\":{\"version\":\"3.6.0.Final\",\"connector\":\"postgresql\","
                + "\"snapshot\":\"" + snapshot + "\",\"schema\":\"" + t.schema() + "\",\"table\":\"" + t.name() + "\",\"lsn\":35383512},"
                + "\"transaction\":{\"id\":\"855:35383512\",\"total_order\":1,\"data_collection_order\":1},\"op\":\"" + op + "\",\"ts_ms\":1}";
        return ChangeEvent.parse(offset++, json.getBytes(StandardCharsets.UTF_8));
    }

    private static ChangeEvent record(String op, TableRef t, String before, String after) throws Exception {
        return record(op, t, before, after, "false");
    }

    @Test
    void insertsUpdatesAndDeletesNameTheirKeys() throws Exception {
        TouchedKeys k = keys();
        k.accept(record("c", ITEMS, "null", "{\"id\":\"1\",\"name\":\"a\"}"));
        k.accept(record("u", ITEMS, "null", "{\"id\":\"2\",\"name\":\"b\"}"));
        k.accept(record("d", ITEMS, "{\"id\":\"3\",\"name\":null}", "null"));
        k.accept(record("u", ITEMS, "null", "{\"id\":\"1\",\"name\":\"c\"}"));
        assertNull(k.fullCheckReason(ITEMS));
        assertEquals(Set.of(List.of("1"), List.of("2"), List.of("3")), k.keys(ITEMS));
    }

    @Test
    void anUpdateThatMovesTheKeyNamesTheOldAndTheNewKey() throws Exception {
        TouchedKeys k = keys();
        k.accept(record("u", LINES, "{\"order_id\":\"7\",\"line\":\"1\",\"qty\":null}", "{\"order_id\":\"7\",\"line\":\"2\",\"qty\":\"5\"}"));
        assertEquals(Set.of(List.of("7", "1"), List.of("7", "2")), k.keys(LINES));
    }

    @Test
    void keysAreKeptAsPostgresText() throws Exception {
        TouchedKeys k = keys();
        k.accept(record("c", LINES, "null", "{\"order_id\":\"a,b\",\"line\":\"x \\\"y\\\"\"}"));
        assertEquals(Set.of(List.of("a,b", "x \"y\"")), k.keys(LINES));
    }

    @Test
    void transactionRecordsHeartbeatsAndDbmigratesOwnTableTouchNothing() throws Exception {
        TouchedKeys k = keys();
        k.accept(ChangeEvent.parse(1, "{\"status\":\"END\",\"id\":\"855:35383696\",\"event_count\":1}".getBytes(StandardCharsets.UTF_8)));
        k.accept(ChangeEvent.parse(2, null));
        k.accept(record("u", HEARTBEAT, "null", "{\"id\":\"1\",\"beat\":\"5\",\"marker\":\"2\",\"at\":\"x\"}"));
        assertEquals(Set.of(), k.keys(ITEMS));
        assertEquals(Set.of(), k.keys(LINES));
        assertEquals(3, k.records());
    }

    @Test
    void aTruncateOrSnapshotRowsMakeThatTableAFullCheckOnly() throws Exception {
        TouchedKeys k = keys();
        k.accept(record("c", ITEMS, "null", "{\"id\":\"1\"}"));
        k.accept(record("t", ITEMS, "null", "null"));
        k.accept(record("c", ITEMS, "null", "{\"id\":\"2\"}"));
        k.accept(record("r", LINES, "null", "{\"order_id\":\"1\",\"line\":\"1\"}", "true"));
        assertTrue(k.fullCheckReason(ITEMS).startsWith("truncated"), k.fullCheckReason(ITEMS));
        assertTrue(k.fullCheckReason(LINES).startsWith("snapshot rows"), k.fullCheckReason(LINES));
        assertThrows(IllegalStateException.class, () -> k.keys(ITEMS));
    }

    @Test
    void aTableWithoutPrimaryKeyIsAlwaysAFullCheck() throws Exception {
        TouchedKeys k = keys();
        assertEquals("no primary key", k.fullCheckReason(LOG));
        k.accept(record("c", LOG, "null", "{\"msg\":\"x\"}"));
        assertEquals("no primary key", k.fullCheckReason(LOG));
        assertNull(k.fullCheckReason(ITEMS));
    }

    @Test
    void aKeyThatIsMissingOrAnUnchangedToastValueMakesAFullCheck() throws Exception {
        TouchedKeys k = keys();
        // a before image by a replica identity index other than the key: the old key is unknown
        k.accept(record("u", ITEMS, "{\"id\":null,\"code\":\"x\"}", "{\"id\":\"2\",\"code\":\"x\"}"));
        assertNotNull(k.fullCheckReason(ITEMS));
        TouchedKeys toast = keys();
        toast.accept(record("u", LINES, "null", "{\"order_id\":\"1\",\"line\":\"" + "\\u0000unchanged-toast" + "\"}"));
        assertNotNull(toast.fullCheckReason(LINES));
        TouchedKeys noImage = keys();
        noImage.accept(record("d", ITEMS, "null", "null"));
        assertNotNull(noImage.fullCheckReason(ITEMS));
    }

    @Test
    void aTableTheCheckDoesNotKnowOrAnExplicitReasonMakesEveryTableAFullCheck() throws Exception {
        TouchedKeys k = keys();
        k.accept(record("c", new TableRef("public", "items_2025"), "null", "{\"id\":\"1\"}"));
        assertNotNull(k.fullCheckReason(ITEMS));
        assertNotNull(k.fullCheckReason(LINES));
        TouchedKeys m = keys();
        m.allFull("no mark");
        assertEquals("no mark", m.fullCheckReason(ITEMS));
    }

    @Test
    void tooManyKeysMakeAFullCheck() throws Exception {
        TouchedKeys k = keys();
        for (int i = 0; i <= 100; i++) {
            k.accept(record("c", ITEMS, "null", "{\"id\":\"" + i + "\"}"));
        }
        assertTrue(k.fullCheckReason(ITEMS).startsWith("more than 100"), k.fullCheckReason(ITEMS));
    }
}
