package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ChangeEvent.Kind;
import io.dbmigrate.workflows.model.TableRef;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Samples are record values from a real run (JsonConverter, schemas disabled). */
class ChangeEventTest {

    private static final String BEGIN =
            "{\"status\":\"BEGIN\",\"id\":\"855:35383512\",\"event_count\":null,\"data_collections\":null,\"ts_ms\":1795598251920}";
    private static final String DATA = "{\"before\":null,\"after\":{\"id\":\"1000\",\"name\":\"new\",\"qty\":\"1\"},"
            + "\"source\":{\"version\":\"3.6.0.Final\",\"connector\":\"postgresql\",\"name\":\"dbmigrate_basic\","
            + "\"ts_ms\":1795598251920,\"snapshot\":\"false\",\"db\":\"basic\",\"sequence\":\"[\\\"35383512\\\",\\\"35383512\\\"]\","
            + "\"ts_us\":1795598251920246,\"ts_ns\":1795598251920246000,\"schema\":\"public\",\"table\":\"items\",\"txId\":855,"
            + "\"lsn\":35383512,\"xmin\":null,\"origin\":null,\"origin_lsn\":null},"
            + "\"transaction\":{\"id\":\"855:35383512\",\"total_order\":1,\"data_collection_order\":1},\"op\":\"c\",\"ts_ms\":1795598251942}";
    private static final String END = "{\"status\":\"END\",\"id\":\"855:35383696\",\"event_count\":1,"
            + "\"data_collections\":[{\"data_collection\":\"public.items\",\"event_count\":1}],\"ts_ms\":1795598251920}";

    private static ChangeEvent parse(long offset, String json) throws Exception {
        return ChangeEvent.parse(offset, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void begin() throws Exception {
        ChangeEvent e = parse(7, BEGIN);
        assertEquals(Kind.BEGIN, e.kind());
        assertEquals(7, e.offset());
        assertEquals("855", e.txId());
        assertEquals(0, e.lsn());
        assertNull(e.table());
        assertFalse(e.isData());
    }

    @Test
    void endCarriesTheCommitLsn() throws Exception {
        ChangeEvent e = parse(9, END);
        assertEquals(Kind.END, e.kind());
        assertEquals("855", e.txId());
        assertEquals(35383696L, e.lsn());
        assertFalse(e.isData());
    }

    @Test
    void insert() throws Exception {
        ChangeEvent e = parse(8, DATA);
        assertEquals(Kind.INSERT, e.kind());
        assertEquals(8, e.offset());
        assertEquals("855", e.txId());
        assertEquals(new TableRef("public", "items"), e.table());
        assertNull(e.before());
        Map<String, String> after = new LinkedHashMap<>();
        after.put("id", "1000");
        after.put("name", "new");
        after.put("qty", "1");
        assertEquals(after, e.after());
        assertEquals(35383512L, e.lsn());
        assertEquals(1795598251920246L, e.commitMicros());
        assertFalse(e.snapshot());
        assertTrue(e.isData());
    }

    @Test
    void jsonNullColumnIsJavaNull() throws Exception {
        ChangeEvent e = parse(8, DATA.replace("\"before\":null", "\"before\":{\"id\":\"1000\",\"name\":null,\"qty\":\"0\"}")
                .replace("\"name\":\"new\"", "\"name\":null").replace("\"op\":\"c\"", "\"op\":\"u\""));
        assertEquals(Kind.UPDATE, e.kind());
        assertTrue(e.after().containsKey("name"));
        assertNull(e.after().get("name"));
        assertNull(e.before().get("name"));
        assertEquals("0", e.before().get("qty"));
        assertEquals("1", e.after().get("qty"));
    }

    @Test
    void commitMicrosFallsBackToMillis() throws Exception {
        ChangeEvent e = parse(8, DATA.replace("\"ts_us\":1795598251920246,", ""));
        assertEquals(1795598251920000L, e.commitMicros());
    }

    @Test
    void snapshotFlag() throws Exception {
        assertTrue(parse(1, DATA.replace("\"snapshot\":\"false\"", "\"snapshot\":\"true\"")).snapshot());
        assertTrue(parse(1, DATA.replace("\"snapshot\":\"false\"", "\"snapshot\":\"last\"")).snapshot());
        assertFalse(parse(1, DATA).snapshot());
    }

    @Test
    void opMapping() throws Exception {
        assertEquals(Kind.INSERT, parse(1, op("c")).kind());
        assertEquals(Kind.UPDATE, parse(1, op("u")).kind());
        assertEquals(Kind.DELETE, parse(1, op("d")).kind());
        assertEquals(Kind.TRUNCATE, parse(1, op("t")).kind());
        assertEquals(Kind.READ, parse(1, op("r")).kind());
        for (String o : new String[] {"c", "u", "d", "t", "r"}) {
            assertTrue(parse(1, op(o)).isData(), o);
        }
    }

    @Test
    void unknownOpIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(42, op("m")));
        assertEquals("unknown op 'm' at offset 42", e.getMessage());
    }

    @Test
    void unknownTransactionStatusIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> parse(1, BEGIN.replace("BEGIN", "ABORT")));
    }

    @Test
    void heartbeatAndTombstone() throws Exception {
        ChangeEvent hb = parse(3, "{\"ts_ms\":1795598252410}");
        assertEquals(Kind.HEARTBEAT, hb.kind());
        assertEquals(3, hb.offset());
        assertNull(hb.txId());
        assertFalse(hb.isData());

        assertEquals(Kind.HEARTBEAT, ChangeEvent.parse(4, null).kind());
        ChangeEvent tomb = parse(5, "null");
        assertEquals(Kind.HEARTBEAT, tomb.kind());
        assertEquals(5, tomb.offset());
    }

    @Test
    void transactionIdParts() {
        assertEquals("855", ChangeEvent.xid("855:35383696"));
        assertEquals("855", ChangeEvent.xid("855"));
        assertNull(ChangeEvent.xid(null));
        assertEquals(35383696L, ChangeEvent.lsnPart("855:35383696"));
        assertEquals(0L, ChangeEvent.lsnPart("855"));
        assertEquals(0L, ChangeEvent.lsnPart("855:x"));
    }

    private static String op(String op) {
        return DATA.replace("\"op\":\"c\"", "\"op\":\"" + op + "\"");
    }

    @Test
    void textValuesKeepEveryCharacterAndTheToastSentinel() throws Exception {
        String json = DATA.replace("\"name\":\"new\"", "\"name\":\"\\u0000unchanged-toast\",\"doc\":\"a\\\"b\\\\c\\u00e9 \u20ac\\ud834\\udd1e\"");
        ChangeEvent e = parse(1, json);
        assertEquals(ChangeEvent.UNCHANGED_TOAST, e.after().get("name"));
        assertEquals("a\"b\\c\u00e9 \u20ac\ud834\udd1e", e.after().get("doc"));
        assertEquals(1, e.order());
    }

    @Test
    void aColumnThatIsNotTextIsRefused() {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> parse(9, DATA.replace("\"qty\":\"1\"", "\"qty\":{\"scale\":0,\"value\":\"AQ==\"}")));
        assertTrue(x.getMessage().contains("column qty at offset 9"), x.getMessage());
    }
}
