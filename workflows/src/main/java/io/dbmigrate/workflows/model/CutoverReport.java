package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** What the cutover did: the fence, the drain, sequences, the final validation, and how long writes paused. */
public record CutoverReport(
        @JsonProperty("fenceLsn") String fenceLsn,
        @JsonProperty("drainedLsn") String drainedLsn,
        @JsonProperty("sequences") List<String> sequences,
        @JsonProperty("finalValidation") ValidationReport finalValidation,
        @JsonProperty("writePauseMs") long writePauseMs) {}
