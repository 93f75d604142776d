package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Heartbeat details of a running {@code CopySnapshot}: what {@code status} and {@code watch} show while the initial
 * copy runs, and where a retried attempt reads how far the last one got. {@code estimatedRows} comes from the
 * source's statistics (reltuples), so the ETA is an estimate; rows and bytes are exact counts of what was committed.
 */
public record SnapshotCopyProgress(
        @JsonProperty("slotLsn") String slotLsn,
        @JsonProperty("units") int units,
        @JsonProperty("unitsDone") int unitsDone,
        @JsonProperty("rows") long rows,
        @JsonProperty("bytes") long bytes,
        @JsonProperty("estimatedRows") long estimatedRows,
        @JsonProperty("rowsPerSec") double rowsPerSec,
        @JsonProperty("etaSeconds") Long etaSeconds,
        @JsonProperty("tables") List<Table> tables) {

    public SnapshotCopyProgress {
        tables = tables == null ? List.of() : List.copyOf(tables);
    }

    /** One table's copy so far ({@code unitsDone == units}: finished). */
    public record Table(
            @JsonProperty("table") String table,
            @JsonProperty("units") int units,
            @JsonProperty("unitsDone") int unitsDone,
            @JsonProperty("rows") long rows,
            @JsonProperty("bytes") long bytes,
            @JsonProperty("estimatedRows") long estimatedRows) {}
}
