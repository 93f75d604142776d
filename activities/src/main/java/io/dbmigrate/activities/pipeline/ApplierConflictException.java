package io.dbmigrate.activities.pipeline;

/**
 * This applier may not go on because another writer owns its stream: another applier holds the stream's lock. Not a
 * data error: nothing was applied twice or skipped, and a later attempt takes over once the other writer is gone.
 */
public final class ApplierConflictException extends RuntimeException {
    public enum Kind {
        /** Another session holds the stream's lock on the applying side. */
        ALREADY_RUNNING("ApplierAlreadyRunning");

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
