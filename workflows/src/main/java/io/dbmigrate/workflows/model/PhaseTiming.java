package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;

public record PhaseTiming(
        @JsonProperty("phase") String phase,
        @JsonProperty("startedAtMs") long startedAtMs,
        @JsonProperty("endedAtMs") Long endedAtMs) {

    public Double seconds() {
        return endedAtMs == null ? null : (endedAtMs - startedAtMs) / 1000.0;
    }
}
