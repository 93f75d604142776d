package io.dbmigrate.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;

/** One line of {@code stack status --json}. */
public record ComponentHealth(
        @JsonProperty("name") String name,
        @JsonProperty("healthy") boolean healthy,
        @JsonProperty("pid") Long pid,
        @JsonProperty("address") String address,
        @JsonProperty("detail") String detail) {}
