package io.dbmigrate.activities.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
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

    /** Decodes one record value (JsonConverter, schemas disabled). */
    public static ChangeEvent parse(long offset, JsonNode v) {
        if (v == null || v.isNull()) {
            return new ChangeEvent(Kind.HEARTBEAT, offset, null, null, null, null, 0, 0, false, 0);
        }
        JsonNode status = v.get("status");
        if (status != null) {
            Kind k = switch (status.asText()) {
                case "BEGIN" -> Kind.BEGIN;
                case "END" -> Kind.END;
                default -> throw new IllegalArgumentException("unknown transaction status " + status + " at offset " + offset);
            };
            // Debezium's transaction id is "<xid>:<lsn>"; on END the LSN is the transaction's commit LSN
            String id = v.path("id").asText();
            return new ChangeEvent(k, offset, xid(id), null, null, null, k == Kind.END ? lsnPart(id) : 0, 0, false,
                    v.path("event_count").asLong(0));
        }
        JsonNode op = v.get("op");
        if (op == null) {
            // Debezium heartbeat records carry only ts_ms
            return new ChangeEvent(Kind.HEARTBEAT, offset, null, null, null, null, 0, 0, false, 0);
        }
        JsonNode src = v.path("source");
        Kind k = switch (op.asText()) {
            case "c" -> Kind.INSERT;
            case "u" -> Kind.UPDATE;
            case "d" -> Kind.DELETE;
            case "t" -> Kind.TRUNCATE;
            case "r" -> Kind.READ;
            default -> throw new IllegalArgumentException("unknown op '" + op.asText() + "' at offset " + offset);
        };
        long commitMicros = src.has("ts_us") ? src.path("ts_us").asLong() : src.path("ts_ms").asLong() * 1000;
        JsonNode tx = v.path("transaction");
        String txId = tx.isObject() ? xid(tx.path("id").asText(null)) : null;
        String snap = src.path("snapshot").asText("false");
        return new ChangeEvent(k, offset, txId, new TableRef(src.path("schema").asText(), src.path("table").asText()),
                columns(v.get("before")), columns(v.get("after")), src.path("lsn").asLong(0), commitMicros,
                !"false".equals(snap) && !snap.isEmpty(), tx.isObject() ? tx.path("total_order").asLong(0) : 0);
    }

    private static Map<String, String> columns(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        Map<String, String> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        return m;
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
