package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The fallback window after the switch: the reverse stream (target captured, applied to the old source) and what
 * ended the window. {@code outcome}: {@code open}, {@code finalized}, {@code expired} (finalized when the window's
 * time ran out) or {@code rolled-back}. {@code reverseStream}: {@code running}, {@code stopped} or {@code failed: why}
 * (a failed reverse stream makes rollback impossible; finalize still works).
 */
public record FallbackWindow(
        @JsonProperty("openedAtMs") long openedAtMs,
        @JsonProperty("closesAtMs") long closesAtMs,
        @JsonProperty("switchLsn") String switchLsn,
        @JsonProperty("reverseStream") String reverseStream,
        @JsonProperty("outcome") String outcome,
        @JsonProperty("decidedBy") String decidedBy,
        @JsonProperty("lastError") String lastError) {

    public static final String OPEN = "open";
    public static final String FINALIZED = "finalized";
    public static final String EXPIRED = "expired";
    public static final String ROLLED_BACK = "rolled-back";

    public FallbackWindow with(String reverse, String outcome, String decidedBy, String lastError) {
        return new FallbackWindow(openedAtMs, closesAtMs, switchLsn, reverse, outcome, decidedBy, lastError);
    }
}
