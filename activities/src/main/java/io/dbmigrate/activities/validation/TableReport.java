package io.dbmigrate.activities.validation;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One table's verdict. {@code differences} lists at most the engine's key cap ({@code truncated} says more were
 * found); the three counters count them all. A table that could not be compared has an {@code error} instead.
 * {@code unsettled} (live mode, a table without a key): why its differences are not final, a writer having moved
 * the source between every re-check; a check with writes stopped decides it.
 */
public record TableReport(
        @JsonProperty("table") String table,
        @JsonProperty("keyless") boolean keyless,
        @JsonProperty("sourceRows") long sourceRows,
        @JsonProperty("targetRows") long targetRows,
        @JsonProperty("chunks") int chunks,
        @JsonProperty("chunksDiffering") int chunksDiffering,
        @JsonProperty("missing") long missing,
        @JsonProperty("extra") long extra,
        @JsonProperty("different") long different,
        @JsonProperty("differences") List<Difference> differences,
        @JsonProperty("truncated") boolean truncated,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("error") @JsonInclude(JsonInclude.Include.NON_NULL) String error,
        @JsonProperty("unsettled") @JsonInclude(JsonInclude.Include.NON_NULL) String unsettled) {

    /**
     * Every row found on both sides with the same values. The row counts are not compared: a count that differs shows
     * as rows missing or extra, and in live mode the two sides were counted at different moments.
     */
    public boolean equal() {
        return error == null && missing == 0 && extra == 0 && different == 0;
    }

    static TableReport failed(String table, double seconds, String error) {
        return new TableReport(table, false, 0, 0, 0, 0, 0, 0, 0, List.of(), false, seconds, error, null);
    }
}
