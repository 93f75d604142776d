package io.dbmigrate.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class ChangeJsonConverterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Schema ROW = SchemaBuilder.struct().name("srv.public.t.Value").optional()
            .field("id", Schema.STRING_SCHEMA).field("doc", Schema.OPTIONAL_STRING_SCHEMA)
            .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build()).build();
    private static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("version", Schema.STRING_SCHEMA).field("ts_ms", Schema.INT64_SCHEMA)
            .field("snapshot", Schema.OPTIONAL_STRING_SCHEMA).field("schema", Schema.STRING_SCHEMA)
            .field("table", Schema.STRING_SCHEMA).field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
            .field("xmin", Schema.OPTIONAL_INT64_SCHEMA).build();
    private static final Schema TX = SchemaBuilder.struct().name("event.block").optional()
            .field("id", Schema.STRING_SCHEMA).field("total_order", Schema.INT64_SCHEMA)
            .field("data_collection_order", Schema.INT64_SCHEMA).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("srv.public.t.Envelope")
            .field("before", ROW).field("after", ROW).field("source", SOURCE)
            .field("transaction", TX).field("op", Schema.STRING_SCHEMA).field("ts_us", Schema.OPTIONAL_INT64_SCHEMA).build();
    private static final Schema COLLECTION = SchemaBuilder.struct().name("event.collection.block")
            .field("data_collection", Schema.STRING_SCHEMA).field("event_count", Schema.INT64_SCHEMA).build();
    private static final Schema TX_VALUE = SchemaBuilder.struct().name("io.debezium.connector.common.TransactionMetadataValue")
            .field("status", Schema.STRING_SCHEMA).field("id", Schema.STRING_SCHEMA)
            .field("event_count", Schema.OPTIONAL_INT64_SCHEMA)
            .field("data_collections", SchemaBuilder.array(COLLECTION).optional().build())
            .field("ts_ms", Schema.INT64_SCHEMA).build();

    private static Struct change() {
        Struct after = new Struct(ROW).put("id", "42")
                // what text columns hold: quotes, backslashes, control characters, non-BMP, and the TOAST sentinel's NUL
                .put("doc", "say \"hi\"\\n\ttab\u0001 é 𝄞 " + PgTextConverter.UNCHANGED_TOAST)
                .put("tags", java.util.Arrays.asList("a", null, "{\"x\"}"));
        return new Struct(ENVELOPE).put("before", null).put("after", after)
                .put("source", new Struct(SOURCE).put("version", "3.6.0.Final").put("ts_ms", 1_700_000_000_123L)
                        .put("snapshot", "false").put("schema", "public").put("table", "we\"ird").put("lsn", 123_456_789L))
                .put("transaction", new Struct(TX).put("id", "771:123456900").put("total_order", 1L).put("data_collection_order", 1L))
                .put("op", "c").put("ts_us", 1_700_000_000_123_456L);
    }

    private static Struct transaction(String status) {
        Struct s = new Struct(TX_VALUE).put("status", status).put("id", "771:123456900").put("ts_ms", 1_700_000_000_124L);
        if (status.equals("END")) {
            s.put("event_count", 1L).put("data_collections", List.of(
                    new Struct(COLLECTION).put("data_collection", "public.t").put("event_count", 1L)));
        }
        return s;
    }

    private static JsonNode ours(Schema schema, Object value, boolean isKey) throws Exception {
        ChangeJsonConverter c = new ChangeJsonConverter();
        c.configure(Map.of(), isKey);
        return JSON.readTree(c.fromConnectData("t", schema, value));
    }

    private static JsonNode kafkas(Schema schema, Object value, boolean isKey) throws Exception {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", "false"), isKey);
        return JSON.readTree(c.fromConnectData("t", schema, value));
    }

    @Test
    void writesTheSameJsonAsKafkasJsonConverter() throws Exception {
        Struct key = new Struct(SchemaBuilder.struct().name("k").field("id", Schema.STRING_SCHEMA).build()).put("id", "42");
        assertEquals(kafkas(key.schema(), key, true), ours(key.schema(), key, true));
        assertEquals(kafkas(ENVELOPE, change(), false), ours(ENVELOPE, change(), false));
        for (String status : List.of("BEGIN", "END")) {
            assertEquals(kafkas(TX_VALUE, transaction(status), false), ours(TX_VALUE, transaction(status), false));
        }
        // Debezium's heartbeat value, logical timestamps, decimals, bytes and maps of both key kinds
        Schema misc = SchemaBuilder.struct().field("ts", Timestamp.SCHEMA).field("dec", Decimal.schema(2))
                .field("raw", Schema.BYTES_SCHEMA).field("flag", Schema.BOOLEAN_SCHEMA)
                .field("labels", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build())
                .field("byId", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build()).build();
        Struct m = new Struct(misc).put("ts", new java.util.Date(1_700_000_000_123L)).put("dec", new BigDecimal("12.30"))
                .put("raw", new byte[] {0, 1, (byte) 0xff}).put("flag", true)
                .put("labels", Map.of("a", 1)).put("byId", Map.of(7, "seven"));
        JsonConverter numeric = new JsonConverter();
        numeric.configure(Map.of("schemas.enable", "false", "decimal.format", "NUMERIC"), false);
        assertEquals(JSON.readTree(numeric.fromConnectData("t", misc, m)), ours(misc, m, false));
    }

    @Test
    void keepsEveryCharacterOfATextValue() throws Exception {
        JsonNode v = ours(ENVELOPE, change(), false);
        assertEquals(change().getStruct("after").getString("doc"), v.path("after").path("doc").asText());
        assertTrue(v.path("before").isNull());
    }

    @Test
    void nullValueIsNullRecord() {
        assertNull(new ChangeJsonConverter().fromConnectData("t", null, null));
    }

    @Test
    void readsBackWhatItWrote() {
        ChangeJsonConverter c = new ChangeJsonConverter();
        c.configure(Map.of(), false);
        Object back = c.toConnectData("t", c.fromConnectData("t", ENVELOPE, change())).value();
        assertEquals("c", ((Map<?, ?>) back).get("op"));
    }

    @Test
    void dropsOnlyTransactionBegin() {
        DropTransactionBegin<SourceRecord> drop = new DropTransactionBegin<>();
        assertNull(drop.apply(record(TX_VALUE, transaction("BEGIN"))));
        assertFalse(drop.apply(record(TX_VALUE, transaction("END"))) == null);
        assertFalse(drop.apply(record(ENVELOPE, change())) == null);
        // a captured table that happens to have a "status" column holding BEGIN is data, not a transaction record
        Schema row = SchemaBuilder.struct().field("status", Schema.STRING_SCHEMA).build();
        assertFalse(drop.apply(record(row, new Struct(row).put("status", "BEGIN"))) == null);
        assertFalse(drop.apply(record(null, null)) == null);
    }

    private static SourceRecord record(Schema schema, Object value) {
        return new SourceRecord(Map.of(), Map.of(), "t", schema, value);
    }
}
