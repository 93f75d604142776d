package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** What preflight found: the tables the migration moves (resolved), versions, estimates, warnings. */
public record PreflightReport(
        @JsonProperty("tables") List<TableRef> tables,
        @JsonProperty("sourceVersion") String sourceVersion,
        @JsonProperty("targetVersion") String targetVersion,
        @JsonProperty("estimatedRows") long estimatedRows,
        @JsonProperty("warnings") List<String> warnings) {}
