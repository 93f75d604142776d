package io.dbmigrate.activities.validation;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One row that differs. {@code key} is the primary key in PostgreSQL text form (key-column order); for a table
 * without a key it is the row's 64-bit hash, and {@code detail} gives how often that row occurs on each side.
 */
public record Difference(
        @JsonProperty("kind") Kind kind,
        @JsonProperty("key") List<String> key,
        @JsonProperty("detail") @JsonInclude(JsonInclude.Include.NON_NULL) String detail) {

    public enum Kind {
        /** On the source, not on the target. */
        MISSING,
        /** On the target, not on the source. */
        EXTRA,
        /** On both sides under the same key, with other values. */
        DIFFERENT
    }
}
