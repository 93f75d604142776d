package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dbmigrate.activities.migration.MigrationValidation;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Validation's chunks are bounded in byte order: a source database in collation C and a target whose default
 * collation orders text keys otherwise (ICU, as this machine has no other libc locale) hold the same rows and pass,
 * where bounds compared in each database's own order put rows into different chunks and reported false differences.
 */
class ValidationCollationIT {
    @Test
    void textKeysOrderedDifferentlyByTheTwoDatabasesStillValidate() throws Exception {
        String db = "valcoll";
        PipelineStack.freshDatabases(db);
        try (Connection c = Pg.connect(PipelineStack.target("postgres"), "it")) {
            Assumptions.assumeTrue(Pg.exists(c, "SELECT 1 FROM pg_collation WHERE collprovider = 'i'"), "no ICU on the target");
            Assumptions.assumeTrue(Integer.parseInt(Pg.one(c, "SHOW server_version_num")) >= 150000, "ICU databases need PostgreSQL 15");
        }
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP DATABASE " + db + " WITH (FORCE)",
                "CREATE DATABASE " + db + " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
        PipelineStack.exec(PipelineStack.target("postgres"), "DROP DATABASE " + db + " WITH (FORCE)",
                "CREATE DATABASE " + db + " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
        String rows = "INSERT INTO words (k, n) SELECT w || g, g FROM unnest(ARRAY['a', 'B', 'ä', '_x', 'A', 'b', 'Z', 'é', "
                + "'aa', 'Ab', 'z', '-y', 'Ä', 'e', 'E']) w, generate_series(1, 20) g";
        for (var e : List.of(PipelineStack.source(db), PipelineStack.target(db))) {
            PipelineStack.exec(e, "CREATE TABLE words (k text PRIMARY KEY, n int)", rows);
        }
        try (Connection s = Pg.connect(PipelineStack.source(db), "it"); Connection t = Pg.connect(PipelineStack.target(db), "it")) {
            String order = "SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT DISTINCT left(k, 1) AS k FROM words) x";
            Assumptions.assumeFalse(Pg.one(s, order).equals(Pg.one(t, order)), "the two databases order text the same");
        }
        TableValidation v = MigrationValidation.whole(PipelineStack.source(db), PipelineStack.target(db), new TableRef("public", "words"), 7,
                null, false);
        assertEquals(300, v.sourceRows());
        assertEquals(300, v.targetRows());
        assertEquals(List.of(), v.mismatchedChunks(), "the same rows, chunked by the same bounds");
    }
}
