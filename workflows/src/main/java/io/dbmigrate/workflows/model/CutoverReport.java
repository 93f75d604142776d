package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What the cutover did: the strategy, the fence, the drain, sequences, the final validation, and how long writes
 * paused ({@code writePauseMs}: from the pause's start to the point of no return, as the workflow measured it;
 * {@code clientMaxWaitMs}: with PgBouncer, the longest a client transaction waited in the pause, as PgBouncer saw it).
 */
public record CutoverReport(
        @JsonProperty("fenceLsn") String fenceLsn,
        @JsonProperty("drainedLsn") String drainedLsn,
        @JsonProperty("sequences") List<String> sequences,
        @JsonProperty("finalValidation") ValidationReport finalValidation,
        @JsonProperty("writePauseMs") long writePauseMs,
        @JsonProperty("strategy") String strategy,
        @JsonProperty("clientMaxWaitMs") Long clientMaxWaitMs) {

    public CutoverReport(String fenceLsn, String drainedLsn, List<String> sequences, ValidationReport finalValidation,
            long writePauseMs) {
        this(fenceLsn, drainedLsn, sequences, finalValidation, writePauseMs, null, null);
    }

    /** With PgBouncer the pause lasts until RESUME: the same report with that pause and the clients' longest wait. */
    public CutoverReport withClientWait(long writePauseMs, long clientMaxWaitMs) {
        return new CutoverReport(fenceLsn, drainedLsn, sequences, finalValidation, writePauseMs, strategy, clientMaxWaitMs);
    }
}
