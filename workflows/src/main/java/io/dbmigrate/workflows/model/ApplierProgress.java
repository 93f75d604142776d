package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Heartbeat details of a running applier; also what an operator sees in the activity's pending state. */
public record ApplierProgress(
        @JsonProperty("kafkaOffset") long kafkaOffset,
        @JsonProperty("appliedLsn") String appliedLsn,
        @JsonProperty("transactions") long transactions,
        @JsonProperty("changes") long changes,
        @JsonProperty("duplicatesSkipped") long duplicatesSkipped,
        @JsonProperty("snapshotRows") long snapshotRows,
        @JsonProperty("lastLagMs") double lastLagMs,
        @JsonProperty("replicaRole") boolean replicaRole,
        @JsonProperty("retrying") String retrying) {}
