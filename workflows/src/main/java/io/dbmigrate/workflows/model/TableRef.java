package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A table by schema and name, exactly as in the catalog (never pre-quoted). */
public record TableRef(@JsonProperty("schema") String schema, @JsonProperty("name") String name) {

    public static TableRef parse(String qualified) {
        int dot = qualified.indexOf('.');
        if (dot < 0) {
            return new TableRef("public", qualified);
        }
        return new TableRef(qualified.substring(0, dot), qualified.substring(dot + 1));
    }

    @Override
    public String toString() {
        return schema + "." + name;
    }
}
