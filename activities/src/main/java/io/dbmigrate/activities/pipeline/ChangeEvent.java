package io.dbmigrate.activities.pipeline;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import io.dbmigrate.workflows.model.TableRef;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One record of the change topic, decoded. Column values are PostgreSQL text (dbmigrate's converter) or
 * {@link #UNCHANGED_TOAST}; {@code null} is SQL NULL. {@code txId} is the source xid; on an END record {@code lsn}
 * is the transaction's commit LSN, which orders transactions exactly as the source committed them. {@code order} is a
 * change's position in its transaction (Debezium's total_order, from 1), and on END the transaction's event count.
 */
public record ChangeEvent(
        Kind kind,
        long offset,
        String txId,
        TableRef table,
        Map<String, String> before,
        Map<String, String> after,
        long lsn,
        long commitMicros,
        boolean snapshot,
        long order) {

    public static final String UNCHANGED_TOAST = "\u0000unchanged-toast";

    public enum Kind { BEGIN, END, INSERT, UPDATE, DELETE, TRUNCATE, READ, HEARTBEAT }

    public boolean isData() {
        return kind == Kind.INSERT || kind == Kind.UPDATE || kind == Kind.DELETE || kind == Kind.TRUNCATE || kind == Kind.READ;
    }

    private static final JsonFactory JSON = JsonFactory.builder().build();

    /**
     * Decodes one record value (JsonConverter's JSON, schemas disabled), streamed: building a tree first was 40% of
     * the applier thread at 12,000 changes/s (JFR). Fields the applier does not use are skipped unread.
     */
    public static ChangeEvent parse(long offset, byte[] value) throws IOException {
        if (value == null) {
            return heartbeat(offset);
        }
        try (JsonParser p = JSON.createParser(value)) {
            JsonToken first = p.nextToken();
            if (first == null || first == JsonToken.VALUE_NULL) {
                return heartbeat(offset);
            }
            expect(p, first, JsonToken.START_OBJECT, offset);
            Fields f = new Fields();
            eachField(p, first, (field, t) -> f.top(p, field, t, offset));
            return f.event(offset);
        }
    }

    /** The fields of one record value that the applier uses; everything else is skipped unread. */
    private static final class Fields {
        String status;
        String id;
        long eventCount;
        String op;
        Map<String, String> before;
        Map<String, String> after;
        String schema;
        String table;
        String snapshot = "false";
        long lsn;
        long tsUs = -1;
        long tsMs;
        String txId;
        long order;

        void top(JsonParser p, String field, JsonToken t, long offset) throws IOException {
            switch (field) {
                case "status" -> status = p.getValueAsString();
                case "id" -> id = p.getValueAsString();
                case "event_count" -> eventCount = p.getValueAsLong(0);
                case "op" -> op = p.getValueAsString();
                case "before" -> before = columns(p, t, offset);
                case "after" -> after = columns(p, t, offset);
                case "source" -> eachField(p, t, (f, v) -> source(p, f));
                case "transaction" -> eachField(p, t, (f, v) -> transaction(p, f));
                default -> p.skipChildren();
            }
        }

        private void source(JsonParser p, String field) throws IOException {
            switch (field) {
                case "schema" -> schema = p.getValueAsString();
                case "table" -> table = p.getValueAsString();
                case "snapshot" -> snapshot = p.getValueAsString("false");
                case "lsn" -> lsn = p.getValueAsLong(0);
                case "ts_us" -> tsUs = p.getValueAsLong(0);
                case "ts_ms" -> tsMs = p.getValueAsLong(0);
                default -> p.skipChildren();
            }
        }

        private void transaction(JsonParser p, String field) throws IOException {
            switch (field) {
                case "id" -> txId = xid(p.getValueAsString());
                case "total_order" -> order = p.getValueAsLong(0);
                default -> p.skipChildren();
            }
        }

        ChangeEvent event(long offset) {
            if (status != null) {
                Kind k = switch (status) {
                    case "BEGIN" -> Kind.BEGIN;
                    case "END" -> Kind.END;
                    default -> throw new IllegalArgumentException("unknown transaction status \"" + status + "\" at offset " + offset);
                };
                // Debezium's transaction id is "<xid>:<lsn>"; on END the LSN is the transaction's commit LSN
                String tid = id == null ? "" : id;
                return new ChangeEvent(k, offset, xid(tid), null, null, null, k == Kind.END ? lsnPart(tid) : 0, 0, false, eventCount);
            }
            if (op == null) {
                // Debezium heartbeat records carry only ts_ms
                return heartbeat(offset);
            }
            Kind k = switch (op) {
                case "c" -> Kind.INSERT;
                case "u" -> Kind.UPDATE;
                case "d" -> Kind.DELETE;
                case "t" -> Kind.TRUNCATE;
                case "r" -> Kind.READ;
                default -> throw new IllegalArgumentException("unknown op '" + op + "' at offset " + offset);
            };
            long commitMicros = tsUs >= 0 ? tsUs : tsMs * 1000;
            boolean snap = snapshot != null && !"false".equals(snapshot) && !snapshot.isEmpty();
            return new ChangeEvent(k, offset, txId, new TableRef(schema, table), before, after, lsn, commitMicros, snap, order);
        }
    }

    /** A row image: every column is PostgreSQL text (or null); anything else means the capture is misconfigured. */
    private static Map<String, String> columns(JsonParser p, JsonToken t, long offset) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_OBJECT, offset);
        Map<String, String> m = new LinkedHashMap<>();
        eachField(p, t, (column, v) -> {
            if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("column " + column + " at offset " + offset + " is not text: the "
                        + "connector is not running dbmigrate's PostgreSQL text converter");
            }
            m.put(column, v == JsonToken.VALUE_NULL ? null : p.getText());
        });
        return m;
    }

    @FunctionalInterface
    private interface FieldReader {
        /** Reads (or skips) the value of {@code field}, whose first token is {@code value}. */
        void read(String field, JsonToken value) throws IOException;
    }

    /** Calls {@code reader} for each field of the object starting at {@code t}; a value that is not an object is skipped. */
    private static void eachField(JsonParser p, JsonToken t, FieldReader reader) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            return;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            reader.read(field, p.nextToken());
        }
    }

    private static ChangeEvent heartbeat(long offset) {
        return new ChangeEvent(Kind.HEARTBEAT, offset, null, null, null, null, 0, 0, false, 0);
    }

    private static void expect(JsonParser p, JsonToken actual, JsonToken expected, long offset) {
        if (actual != expected) {
            throw new IllegalArgumentException("record at offset " + offset + ": expected " + expected + " but found "
                    + actual + " at " + p.currentLocation());
        }
    }

    static String xid(String id) {
        if (id == null) {
            return null;
        }
        int colon = id.indexOf(':');
        return colon < 0 ? id : id.substring(0, colon);
    }

    static long lsnPart(String id) {
        int colon = id.indexOf(':');
        if (colon < 0) {
            return 0;
        }
        try {
            return Long.parseLong(id.substring(colon + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
