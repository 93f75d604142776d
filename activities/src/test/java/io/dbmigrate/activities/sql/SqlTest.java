package io.dbmigrate.activities.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dbmigrate.workflows.model.TableRef;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlTest {

    @Test
    void identQuotesAndDoublesEmbeddedQuotes() {
        assertEquals("\"items\"", Sql.ident("items"));
        assertEquals("\"Items\"", Sql.ident("Items"));
        assertEquals("\"we\"\"ird\"", Sql.ident("we\"ird"));
        assertEquals("\"a.b, c;\"", Sql.ident("a.b, c;"));
        assertEquals("\"\"\"\"", Sql.ident("\""));
    }

    @Test
    void identRejectsEmptyNullAndNul() {
        assertEquals("empty SQL identifier", assertThrows(IllegalArgumentException.class, () -> Sql.ident("")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sql.ident(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sql.ident("a\0b"));
        assertEquals("SQL identifier contains NUL: a\\0b", e.getMessage());
    }

    @Test
    void table() {
        assertEquals("\"public\".\"items\"", Sql.table(new TableRef("public", "items")));
        assertEquals("\"we\"\"ird sch.ema\".\"T\"", Sql.table("we\"ird sch.ema", "T"));
    }

    @Test
    void idents() {
        assertEquals("\"a\", \"b\"\"c\"", Sql.idents(List.of("a", "b\"c")));
    }

    @Test
    void literal() {
        assertEquals("'plain'", Sql.literal("plain"));
        assertEquals("'it''s'", Sql.literal("it's"));
        assertEquals("''", Sql.literal(""));
        assertEquals("'back\\slash'", Sql.literal("back\\slash"));
        assertThrows(IllegalArgumentException.class, () -> Sql.literal("a\0"));
    }
}
