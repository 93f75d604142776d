package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** Row counts and per-primary-key-chunk checksums of one table on both sides. */
public record TableValidation(
        @JsonProperty("table") String table,
        @JsonProperty("sourceRows") long sourceRows,
        @JsonProperty("targetRows") long targetRows,
        @JsonProperty("chunks") int chunks,
        @JsonProperty("mismatchedChunks") List<String> mismatchedChunks) {

    public boolean matches() {
        return sourceRows == targetRows && mismatchedChunks.isEmpty();
    }
}
