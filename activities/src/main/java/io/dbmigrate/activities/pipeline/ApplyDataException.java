package io.dbmigrate.activities.pipeline;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A change the target refused for a reason retrying cannot fix (a constraint, a value, a missing row). The pipeline
 * stops here: nothing after this change is applied, and nothing is skipped.
 * <p>{@link #getMessage()} has everything (for the worker's log); {@link #message(boolean)} with redaction is what may
 * reach the workflow history: the key as a stable hash, the database's error without its DETAIL (the row's values,
 * "Failing row contains (...)", "Key (id)=(42) already exists") and without values quoted in data errors.
 */
public final class ApplyDataException extends RuntimeException {
    private final String table;
    private final String key;
    private final long lsn;
    private final long offset;
    private final String where;
    private final String redactedReason;

    public ApplyDataException(ChangeEvent e, String key, String reason, Throwable cause) {
        super(where(e, key) + reason, cause);
        this.table = String.valueOf(e.table());
        this.key = key;
        this.lsn = e.lsn();
        this.offset = e.offset();
        this.where = where(e, keyRef(table, key));
        this.redactedReason = cause instanceof SQLException sql ? redacted(sql) : reason;
    }

    private static String where(ChangeEvent e, String key) {
        return (e.table() == null ? "cannot apply transaction " + e.txId() : "cannot apply " + e.kind().name().toLowerCase()
                + " on " + e.table() + " key " + key) + " (source LSN " + Lsn.format(e.lsn()) + ", topic offset "
                + e.offset() + "): ";
    }

    /** The message for history: the full one, or with {@code redactValues} no row value in it. */
    public String message(boolean redactValues) {
        return redactValues ? where + redactedReason : getMessage();
    }

    /** The key for history: as it is, or with {@code redactValues} its hash. */
    public String key(boolean redactValues) {
        return redactValues ? keyRef(table, key) : key;
    }

    /**
     * A short hash naming the row without showing it, the same for the same row in history and in the worker's log.
     * It hides the key from a reader, not from someone who can guess it (a small integer key can be confirmed by
     * hashing guesses); the codec is what keeps history unreadable to those without its key.
     */
    public static String keyRef(String table, String key) {
        if (key == null || key.equals("?")) {
            return "?";
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((table + "\u0000" + key).getBytes(StandardCharsets.UTF_8));
            return "key#" + HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A row's key as apply errors name it, {@code (id=42, region=eu)}, long values cut; the live validation hashes the
     * same text with {@link #keyRef}, so a row has one name in history whichever step reported it.
     */
    public static String keyText(List<String> keyCols, Map<String, String> row) {
        return "(" + keyCols.stream().map(k -> k + "=" + abbreviate(row.get(k))).collect(Collectors.joining(", ")) + ")";
    }

    private static String abbreviate(String v) {
        if (v == null) {
            return "NULL";
        }
        return v.length() > 40 ? v.substring(0, 40) + "…" : v;
    }

    /**
     * The server's primary message, SQLSTATE and object names only. Data exceptions (class 22) quote the refused value
     * in the primary message ({@code invalid input syntax for type integer: "abc"}), so quoted text goes; a trigger's
     * RAISE (class P0) writes whatever its author chose, so its text goes entirely.
     */
    static String redacted(SQLException e) {
        ServerErrorMessage m = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        if (m == null || m.getSQLState() == null) {
            return "SQLSTATE " + e.getSQLState() + " (message withheld: redactValues)";
        }
        String state = m.getSQLState();
        String text = String.valueOf(m.getMessage());
        if (state.startsWith("22")) {
            text = text.replaceAll("\"(?:[^\"]|\"\")*\"", "\"…\"");
        } else if (state.startsWith("P0")) {
            text = "raised by a trigger or function (text withheld: redactValues)";
        }
        StringBuilder b = new StringBuilder("SQLSTATE ").append(state).append(": ").append(text);
        if (m.getConstraint() != null) {
            b.append(" (constraint ").append(m.getConstraint()).append(')');
        }
        if (m.getColumn() != null) {
            b.append(" (column ").append(m.getColumn()).append(')');
        }
        return b.append(" [row details withheld: redactValues; the worker's log has them]").toString();
    }

    public String table() {
        return table;
    }

    public String key() {
        return key;
    }

    public long lsn() {
        return lsn;
    }

    public long offset() {
        return offset;
    }
}
