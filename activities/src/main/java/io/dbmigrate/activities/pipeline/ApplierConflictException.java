package io.dbmigrate.activities.pipeline;

/**
 * This applier may not go on because another writer owns its stream: another applier holds the stream's lock, or the
 * stored position is no longer the one this applier read. Not a data error: nothing was applied twice or skipped (the
 * group in hand was rolled back), and a later attempt takes over once the other writer is gone.
 */
public final class ApplierConflictException extends RuntimeException {
    public enum Kind {
        /** Another session holds the stream's lock on the applying side. */
        ALREADY_RUNNING("ApplierAlreadyRunning"),
        /** The stored position moved (or was removed) under this applier: its compare-and-set found another value. */
        POSITION_MOVED("ApplyPositionConflict");

        private final String failureType;

        Kind(String failureType) {
            this.failureType = failureType;
        }

        /** The Temporal failure type the activity reports (retryable). */
        public String failureType() {
            return failureType;
        }
    }

    private final Kind kind;

    ApplierConflictException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
