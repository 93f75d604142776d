package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Row counts and per-primary-key-chunk checksums of one table on both sides. When {@code recheckedKeys} is set the
 * table was checked inside the write freeze by only the keys the stream touched since the last live pass: the row
 * figures then count the rows those keys found on each side (not the table's size), and {@code chunks} is 0.
 * {@code unsettled} (live only): why a table without a key was neither proven equal nor different while it was
 * written in every re-check; the exact check inside the write freeze, which reads such a table whole, decides it.
 * <p>A table checked by the validation engine also counts its differing rows by kind ({@code missingRows} on the
 * target, {@code extraRows} on the target, {@code differentRows}: same key, other values), and
 * {@code mismatchedChunks} then names the first of them ({@code "missing key (42)"}; with the plan's redactValues the
 * key as a stable hash, {@code "missing key#1a2b3c4d"}, the report file having the real one). Those counts, not the
 * row figures, decide: in live mode the two sides' rows are counted at different moments.
 */
public record TableValidation(
        @JsonProperty("table") String table,
        @JsonProperty("sourceRows") long sourceRows,
        @JsonProperty("targetRows") long targetRows,
        @JsonProperty("chunks") int chunks,
        @JsonProperty("mismatchedChunks") List<String> mismatchedChunks,
        @JsonProperty("recheckedKeys") @JsonInclude(JsonInclude.Include.NON_NULL) Integer recheckedKeys,
        @JsonProperty("unsettled") @JsonInclude(JsonInclude.Include.NON_NULL) String unsettled,
        @JsonProperty("missingRows") @JsonInclude(JsonInclude.Include.NON_NULL) Long missingRows,
        @JsonProperty("extraRows") @JsonInclude(JsonInclude.Include.NON_NULL) Long extraRows,
        @JsonProperty("differentRows") @JsonInclude(JsonInclude.Include.NON_NULL) Long differentRows) {

    /** A whole-table check (every row read). */
    public TableValidation(String table, long sourceRows, long targetRows, int chunks, List<String> mismatchedChunks) {
        this(table, sourceRows, targetRows, chunks, mismatchedChunks, null, null);
    }

    public TableValidation(String table, long sourceRows, long targetRows, int chunks, List<String> mismatchedChunks,
            Integer recheckedKeys) {
        this(table, sourceRows, targetRows, chunks, mismatchedChunks, recheckedKeys, null);
    }

    public TableValidation(String table, long sourceRows, long targetRows, int chunks, List<String> mismatchedChunks,
            Integer recheckedKeys, String unsettled) {
        this(table, sourceRows, targetRows, chunks, mismatchedChunks, recheckedKeys, unsettled, null, null, null);
    }

    /** Equal, or (live) not decidable under the writer and left to the exact check inside the write freeze. */
    public boolean matches() {
        if (unsettled != null) {
            return true;
        }
        if (missingRows != null) {
            return missingRows == 0 && extraRows == 0 && differentRows == 0 && mismatchedChunks.isEmpty();
        }
        return sourceRows == targetRows && mismatchedChunks.isEmpty();
    }
}
