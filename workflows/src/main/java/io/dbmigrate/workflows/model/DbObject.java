package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A database object by kind and name, exactly as in the catalog (never pre-quoted). What the prepare step created on
 * the target is a list of these in the workflow's history (saga state: names only, never data), so that the rollback
 * drops exactly those. {@code args} is set for functions and procedures only: the server's rendering of their
 * argument types, which tells overloads apart.
 *
 * <p>Histories recorded before this type existed hold plain {@code "schema.table"} strings (the prepare step then
 * created tables only); they read back as tables.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DbObject(
        @JsonProperty("kind") Kind kind,
        @JsonProperty("schema") String schema,
        @JsonProperty("name") String name,
        @JsonProperty("args") String args) {

    public enum Kind {
        SCHEMA, COLLATION, TYPE, DOMAIN, SEQUENCE, FUNCTION, TABLE, VIEW,
        /** Parts of a table: they go with it. */
        CONSTRAINT, INDEX, TRIGGER, RULE, POLICY, STATISTICS;

        /** In the history's list of created objects: the ones a rollback drops by name. */
        public boolean standalone() {
            return ordinal() <= VIEW.ordinal();
        }
    }

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public DbObject {}

    public static DbObject of(Kind kind, String schema, String name) {
        return new DbObject(kind, schema, name, null);
    }

    public static DbObject table(TableRef t) {
        return of(Kind.TABLE, t.schema(), t.name());
    }

    /** A created-table entry as histories before {@link DbObject} recorded it: {@code "schema.table"}. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static DbObject fromRecordedTable(String qualified) {
        return table(TableRef.parse(qualified));
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + (schema == null ? "" : schema + ".") + name
                + (args == null ? "" : "(" + args + ")");
    }
}
