package io.dbmigrate.activities.sql;

import io.dbmigrate.workflows.model.TableRef;
import java.util.List;
import java.util.stream.Collectors;

/** The one place SQL identifiers are quoted. Values are never spliced into SQL: they are bound parameters. */
public final class Sql {
    private Sql() {}

    /** {@code "name"} with embedded quotes doubled; any name the catalog holds survives. */
    public static String ident(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty SQL identifier");
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("SQL identifier contains NUL: " + name.replace("\0", "\\0"));
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    public static String table(TableRef t) {
        return ident(t.schema()) + "." + ident(t.name());
    }

    public static String table(String schema, String name) {
        return ident(schema) + "." + ident(name);
    }

    public static String idents(List<String> names) {
        return names.stream().map(Sql::ident).collect(Collectors.joining(", "));
    }

    /** A string literal, only for DDL where PostgreSQL accepts no parameter (never for data). */
    public static String literal(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("literal contains NUL");
        }
        return "'" + value.replace("'", "''") + "'";
    }
}
