package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A PostgreSQL database as the plan names it. {@code passwordRef} is a reference ({@code env:NAME} or
 * {@code file:PATH}) resolved only inside activities on the worker, so no secret enters workflow history.
 */
public record Endpoint(
        @JsonProperty("host") String host,
        @JsonProperty("port") int port,
        @JsonProperty("database") String database,
        @JsonProperty("user") String user,
        @JsonProperty("passwordRef") String passwordRef) {

    public String describe() {
        return user + "@" + host + ":" + port + "/" + database;
    }
}
