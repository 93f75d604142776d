package io.dbmigrate.connect;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.storage.Converter;

/**
 * Writes a record as the same JSON Kafka's {@link JsonConverter} writes with {@code schemas.enable=false}, streamed
 * straight from the Struct. JsonConverter first builds a tree of nodes and validates every value against its schema,
 * which made it a third of the Connect task thread's time on the change topic (JFR, 2,500 commits/s); the records it
 * converts were built and validated by Debezium already. Reading back (unused by a source connector) is
 * JsonConverter's.
 *
 * <p>Values without a JSON form (float NaN and infinities, which JsonConverter writes as 0) are written as strings:
 * dbmigrate's events carry every column as PostgreSQL text, so these appear nowhere it reads.
 */
public final class ChangeJsonConverter implements Converter {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final JsonConverter reader = new JsonConverter();

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Map<String, Object> c = new HashMap<>(configs);
        c.put("schemas.enable", "false");
        reader.configure(c, isKey);
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        ByteArrayBuilder out = new ByteArrayBuilder(512);
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            write(g, schema, value);
        } catch (IOException e) {
            throw new DataException("cannot write record for topic " + topic + " as JSON: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        return reader.toConnectData(topic, value);
    }

    static void write(JsonGenerator g, Schema schema, Object value) throws IOException {
        if (value == null) {
            g.writeNull();
            return;
        }
        String logical = schema == null ? null : schema.name();
        if (value instanceof Struct s) {
            g.writeStartObject();
            for (Field f : s.schema().fields()) {
                g.writeFieldName(f.name());
                write(g, f.schema(), s.get(f));
            }
            g.writeEndObject();
        } else if (value instanceof String s) {
            g.writeString(s);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            g.writeNumber(((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isFinite(d)) {
                g.writeNumber(d);
            } else {
                g.writeString(Double.toString(d));
            }
        } else if (value instanceof BigDecimal d) {
            g.writeNumber(d);
        } else if (value instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (value instanceof byte[] b) {
            g.writeString(Base64.getEncoder().encodeToString(b));
        } else if (value instanceof ByteBuffer b) {
            byte[] copy = new byte[b.remaining()];
            b.duplicate().get(copy);
            g.writeString(Base64.getEncoder().encodeToString(copy));
        } else if (value instanceof java.util.Date d) {
            // Connect's logical types, in JsonConverter's numbers
            if (Date.LOGICAL_NAME.equals(logical)) {
                g.writeNumber(TimeUnit.MILLISECONDS.toDays(d.getTime()));
            } else if (Time.LOGICAL_NAME.equals(logical)) {
                g.writeNumber((int) d.getTime());
            } else if (Timestamp.LOGICAL_NAME.equals(logical) || logical == null) {
                g.writeNumber(d.getTime());
            } else {
                throw new DataException("no JSON form for a " + logical + " value");
            }
        } else if (value instanceof Collection<?> c) {
            g.writeStartArray();
            Schema element = schema == null ? null : schema.valueSchema();
            for (Object o : c) {
                write(g, element, o);
            }
            g.writeEndArray();
        } else if (value instanceof Map<?, ?> m) {
            writeMap(g, schema, m);
        } else {
            throw new DataException("no JSON form for a value of " + value.getClass().getName());
        }
    }

    /** Maps with string keys are objects, any other key type an array of [key, value] pairs (as JsonConverter). */
    private static void writeMap(JsonGenerator g, Schema schema, Map<?, ?> m) throws IOException {
        Schema keySchema = schema == null ? null : schema.keySchema();
        Schema valueSchema = schema == null ? null : schema.valueSchema();
        boolean objectMode = keySchema != null ? keySchema.type() == Schema.Type.STRING
                : m.keySet().stream().allMatch(k -> k instanceof String);
        if (objectMode) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                g.writeFieldName((String) e.getKey());
                write(g, valueSchema, e.getValue());
            }
            g.writeEndObject();
        } else {
            g.writeStartArray();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                g.writeStartArray();
                write(g, keySchema, e.getKey());
                write(g, valueSchema, e.getValue());
                g.writeEndArray();
            }
            g.writeEndArray();
        }
    }
}
