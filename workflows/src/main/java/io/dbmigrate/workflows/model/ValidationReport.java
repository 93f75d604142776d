package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The proof shown before approval (live, chunks re-checked after a drain) and again inside the write freeze (exact).
 * {@code reportPath}: where the worker that ran the live validation wrote its full report ({@code .json}, and the
 * same name with {@code .html}), real keys included; on that worker's machine. {@code blockRangesRead}: block ranges
 * (of both sides) the live validation's last attempt read; {@code blockRangesResumed}: those finished by earlier
 * attempts that a worker death ended, which it did not read again.
 */
public record ValidationReport(
        @JsonProperty("passed") boolean passed,
        @JsonProperty("frozen") boolean frozen,
        @JsonProperty("rowsSource") long rowsSource,
        @JsonProperty("rowsTarget") long rowsTarget,
        @JsonProperty("chunks") int chunks,
        @JsonProperty("tables") List<TableValidation> tables,
        @JsonProperty("reportPath") @JsonInclude(JsonInclude.Include.NON_NULL) String reportPath,
        @JsonProperty("blockRangesRead") @JsonInclude(JsonInclude.Include.NON_NULL) Long blockRangesRead,
        @JsonProperty("blockRangesResumed") @JsonInclude(JsonInclude.Include.NON_NULL) Long blockRangesResumed) {

    public ValidationReport(boolean passed, boolean frozen, long rowsSource, long rowsTarget, int chunks,
            List<TableValidation> tables) {
        this(passed, frozen, rowsSource, rowsTarget, chunks, tables, null, null, null);
    }

    public static ValidationReport of(boolean frozen, List<TableValidation> tables) {
        return new ValidationReport(tables.stream().allMatch(TableValidation::matches), frozen,
                tables.stream().mapToLong(TableValidation::sourceRows).sum(),
                tables.stream().mapToLong(TableValidation::targetRows).sum(),
                tables.stream().mapToInt(TableValidation::chunks).sum(), tables, null, null, null);
    }

    public ValidationReport withReportPath(String path) {
        return new ValidationReport(passed, frozen, rowsSource, rowsTarget, chunks, tables, path, blockRangesRead,
                blockRangesResumed);
    }

    public ValidationReport withBlockRanges(long read, long resumed) {
        return new ValidationReport(passed, frozen, rowsSource, rowsTarget, chunks, tables, reportPath, read, resumed);
    }
}
