package io.dbmigrate.activities.validation;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A finished chunk: its rows on each side, how many rows differ by kind, and the first of them (at most the
 * engine's key cap). What a resumed validation takes over instead of reading the chunk again.
 */
public record ChunkVerdict(
        @JsonProperty("index") int index,
        @JsonProperty("sourceRows") long sourceRows,
        @JsonProperty("targetRows") long targetRows,
        @JsonProperty("missing") long missing,
        @JsonProperty("extra") long extra,
        @JsonProperty("different") long different,
        @JsonProperty("differences") List<Difference> differences) {

    public boolean equal() {
        return missing == 0 && extra == 0 && different == 0 && sourceRows == targetRows;
    }
}
