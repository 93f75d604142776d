package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The proof shown before approval (live, chunks re-checked after a drain) and again inside the write freeze (exact). */
public record ValidationReport(
        @JsonProperty("passed") boolean passed,
        @JsonProperty("frozen") boolean frozen,
        @JsonProperty("rowsSource") long rowsSource,
        @JsonProperty("rowsTarget") long rowsTarget,
        @JsonProperty("chunks") int chunks,
        @JsonProperty("tables") List<TableValidation> tables) {

    public static ValidationReport of(boolean frozen, List<TableValidation> tables) {
        return new ValidationReport(tables.stream().allMatch(TableValidation::matches), frozen,
                tables.stream().mapToLong(TableValidation::sourceRows).sum(),
                tables.stream().mapToLong(TableValidation::targetRows).sum(),
                tables.stream().mapToInt(TableValidation::chunks).sum(), tables);
    }
}
