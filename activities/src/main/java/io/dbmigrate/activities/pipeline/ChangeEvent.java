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
            return new ChangeEvent(Kind.HEARTBEAT, offset, null, null, null, null, 0, 0, false, 0);
        }
        try (JsonParser p = JSON.createParser(value)) {
            JsonToken first = p.nextToken();
            if (first == null || first == JsonToken.VALUE_NULL) {
                return new ChangeEvent(Kind.HEARTBEAT, offset, null, null, null, null, 0, 0, false, 0);
            }
            expect(p, first, JsonToken.START_OBJECT, offset);
            String status = null;
            String id = null;
            long eventCount = 0;
            String op = null;
            Map<String, String> before = null;
            Map<String, String> after = null;
            String schema = null;
            String table = null;
            String snapshot = "false";
            long lsn = 0;
            long tsUs = -1;
            long tsMs = 0;
            String txId = null;
            long order = 0;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "status" -> status = p.getValueAsString();
                    case "id" -> id = p.getValueAsString();
                    case "event_count" -> eventCount = p.getValueAsLong(0);
                    case "op" -> op = p.getValueAsString();
                    case "before" -> before = columns(p, t, offset);
                    case "after" -> after = columns(p, t, offset);
                    case "source" -> {
                        if (t != JsonToken.START_OBJECT) {
                            p.skipChildren();
                            continue;
                        }
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String f = p.currentName();
                            p.nextToken();
                            switch (f) {
                                case "schema" -> schema = p.getValueAsString();
                                case "table" -> table = p.getValueAsString();
                                case "snapshot" -> snapshot = p.getValueAsString("false");
                                case "lsn" -> lsn = p.getValueAsLong(0);
                                case "ts_us" -> tsUs = p.getValueAsLong(0);
                                case "ts_ms" -> tsMs = p.getValueAsLong(0);
                                default -> p.skipChildren();
                            }
                        }
                    }
                    case "transaction" -> {
                        if (t != JsonToken.START_OBJECT) {
                            p.skipChildren();
                            continue;
                        }
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String f = p.currentName();
                            p.nextToken();
                            switch (f) {
                                case "id" -> txId = xid(p.getValueAsString());
                                case "total_order" -> order = p.getValueAsLong(0);
                                default -> p.skipChildren();
                            }
                        }
                    }
                    default -> p.skipChildren();
                }
            }
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
                return new ChangeEvent(Kind.HEARTBEAT, offset, null, null, null, null, 0, 0, false, 0);
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
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String column = p.currentName();
            JsonToken v = p.nextToken();
            if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("column " + column + " at offset " + offset + " is not text: the "
                        + "connector is not running dbmigrate's PostgreSQL text converter");
            }
            m.put(column, v == JsonToken.VALUE_NULL ? null : p.getText());
        }
        return m;
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
