package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.TableRef;
import java.util.List;
import java.util.Locale;

/**
 * One object of the source's schema and the statements that create it, in order. {@code table} is the table (or view)
 * a constraint, index, trigger, rule, policy or statistics object belongs to; null for schema-level objects.
 */
public record SchemaObject(DbObject object, TableRef table, List<String> statements) {
    public SchemaObject {
        statements = List.copyOf(statements);
    }

    /** For messages: {@code index "Invoice lower no" on "App ""Core""".invoice}, names quoted as in SQL. */
    public String describe() {
        DbObject o = object;
        String kind = o.kind().name().toLowerCase(Locale.ROOT);
        if (table != null) {
            return kind + " " + Sql.ident(o.name()) + " on " + Sql.table(table);
        }
        String name = o.schema() == null ? Sql.ident(o.name()) : Sql.table(o.schema(), o.name());
        return kind + " " + name + (o.args() == null ? "" : "(" + o.args() + ")");
    }
}
