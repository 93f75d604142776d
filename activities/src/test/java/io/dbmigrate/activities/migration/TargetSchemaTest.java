package io.dbmigrate.activities.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.DbObject.Kind;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the compensation runs for each created object, and how a refusal reads. */
class TargetSchemaTest {
    @Test
    void dropsQuoteEveryNameAndNameTheOverload() {
        assertEquals("DROP TABLE IF EXISTS \"App \"\"Core\"\"\".\"Customer \"\"Main\"\"\" CASCADE",
                TargetSchema.dropStatement(DbObject.table(new TableRef("App \"Core\"", "Customer \"Main\""))));
        assertEquals("DROP ROUTINE IF EXISTS \"s\".\"f\"(integer, \"App \"\"Core\"\"\".mood)",
                TargetSchema.dropStatement(new DbObject(Kind.FUNCTION, "s", "f", "integer, \"App \"\"Core\"\"\".mood")));
        assertEquals("DROP DOMAIN IF EXISTS \"s\".\"d\"", TargetSchema.dropStatement(DbObject.of(Kind.DOMAIN, "s", "d")));
        assertEquals("DROP SCHEMA IF EXISTS \"Reports\"", TargetSchema.dropStatement(DbObject.of(Kind.SCHEMA, null, "Reports")));
        // an entry of a history recorded before DbObject ("schema.table") drops the table, as it did
        assertEquals("DROP TABLE IF EXISTS \"public\".\"orders\" CASCADE", TargetSchema.dropStatement(DbObject.fromRecordedTable("public.orders")));
    }

    @Test
    void aRefusalNamesTheObjectAndOnlyTransientErrorsAreRetried() {
        SchemaObject fk = new SchemaObject(DbObject.of(Kind.CONSTRAINT, "public", "to outside"), new TableRef("public", "orders"), List.of("ALTER TABLE ..."));
        assertEquals("constraint \"to outside\" on \"public\".\"orders\"", fk.describe());
        assertEquals("function \"s\".\"f\"(integer)", new SchemaObject(new DbObject(Kind.FUNCTION, "s", "f", "integer"), null, List.of()).describe());
        assertFalse(new TargetSchema.Refused("x", "42P01", new SQLException()).transientFailure(), "undefined table");
        assertFalse(new TargetSchema.Refused("x", "42710", new SQLException()).transientFailure(), "duplicate object");
        assertTrue(new TargetSchema.Refused("x", "40P01", new SQLException()).transientFailure(), "deadlock");
        assertTrue(new TargetSchema.Refused("x", "57014", new SQLException()).transientFailure(), "statement timeout");
        assertTrue(new TargetSchema.Refused("x", "08006", new SQLException()).transientFailure(), "connection lost");
    }
}
