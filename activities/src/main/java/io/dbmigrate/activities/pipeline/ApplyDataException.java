package io.dbmigrate.activities.pipeline;

/**
 * A change the target refused for a reason retrying cannot fix (a constraint, a value, a missing row). The pipeline
 * stops here: nothing after this change is applied, and nothing is skipped.
 */
public final class ApplyDataException extends RuntimeException {
    private final String table;
    private final String key;
    private final long lsn;
    private final long offset;

    public ApplyDataException(ChangeEvent e, String key, String reason, Throwable cause) {
        super((e.table() == null ? "cannot apply transaction " + e.txId() : "cannot apply " + e.kind().name().toLowerCase()
                + " on " + e.table() + " key " + key) + " (source LSN "
                + Lsn.format(e.lsn()) + ", topic offset " + e.offset() + "): " + reason, cause);
        this.table = String.valueOf(e.table());
        this.key = key;
        this.lsn = e.lsn();
        this.offset = e.offset();
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
