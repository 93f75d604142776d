package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How far the applying side is behind the capturing side. {@code bytes}: the capturing side's current WAL position
 * minus the LSN of the last applied change. {@code secondsSinceLastApplied}: age of the newest applied source commit
 * (the heartbeat commits every second, so a caught-up stream reads about 1 s here).
 */
public record StreamLag(
        @JsonProperty("currentLsn") String currentLsn,
        @JsonProperty("appliedLsn") String appliedLsn,
        @JsonProperty("bytes") long bytes,
        @JsonProperty("secondsSinceLastApplied") double secondsSinceLastApplied,
        @JsonProperty("slotRetainedBytes") long slotRetainedBytes,
        @JsonProperty("appliedTransactions") long appliedTransactions) {}
