package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The result of {@code CopySnapshot}: the slot's consistent point (the stream starts exactly there), what was
 * copied, in which format, and whether the copy had to start over because its exported snapshot was lost.
 */
public record SnapshotCopyReport(
        @JsonProperty("slotLsn") String slotLsn,
        @JsonProperty("rows") long rows,
        @JsonProperty("bytes") long bytes,
        @JsonProperty("millis") long millis,
        @JsonProperty("units") int units,
        @JsonProperty("unitsCopiedThisAttempt") int unitsCopiedThisAttempt,
        @JsonProperty("restartedBecause") String restartedBecause,
        @JsonProperty("tables") List<Table> tables) {

    public SnapshotCopyReport {
        tables = tables == null ? List.of() : List.copyOf(tables);
    }

    public record Table(
            @JsonProperty("table") String table,
            @JsonProperty("rows") long rows,
            @JsonProperty("bytes") long bytes,
            @JsonProperty("format") String format) {}
}
