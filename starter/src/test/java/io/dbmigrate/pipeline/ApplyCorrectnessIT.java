package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The traps of FIELD-NOTES.md and the issue, each reproduced on the real pipeline. */
class ApplyCorrectnessIT {
    static final String HOSTILE_SCHEMA = "we\"ird sch.ema";
    static final String HOSTILE_TABLE = "Tab,le \"x\"; DROP TABLE t; --";

    static final String[] DDL = {
        "CREATE TABLE parent (id int PRIMARY KEY, name text)",
        "CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id) ON DELETE CASCADE, v text)",
        "CREATE TABLE toasty (id int PRIMARY KEY, counter int, big text, blob bytea)",
        "CREATE TABLE keyed (id int PRIMARY KEY, v text)",
        "CREATE TABLE parted (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
        "CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu')",
        "CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us')",
        "CREATE TABLE nokey (a int, b text)",
        "ALTER TABLE nokey REPLICA IDENTITY FULL",
        "CREATE TABLE ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int, doubled int GENERATED ALWAYS AS (v * 2) STORED)",
        "CREATE SCHEMA \"we\"\"ird sch.ema\"",
        "CREATE TABLE \"we\"\"ird sch.ema\".\"Tab,le \"\"x\"\"; DROP TABLE t; --\" (\"col \"\"1\"\"\" int PRIMARY KEY, \"SELECT\" text)",
    };

    static final List<TableRef> TABLES = List.of(new TableRef("public", "parent"), new TableRef("public", "child"),
            new TableRef("public", "toasty"), new TableRef("public", "keyed"), new TableRef("public", "parted"),
            new TableRef("public", "nokey"), new TableRef("public", "ident"), new TableRef(HOSTILE_SCHEMA, HOSTILE_TABLE));

    @Test
    void trapsAreHandled() throws Exception {
        String db = "traps";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), DDL);
        PipelineStack.exec(PipelineStack.target(db), DDL);
        var src = PipelineStack.source(db);
        PipelineStack.exec(src,
                "INSERT INTO toasty SELECT g, 0, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 400) s),"
                        + " (SELECT string_agg(decode(md5(random()::text || s), 'hex'), ''::bytea) FROM generate_series(1, 400) s)"
                        + " FROM generate_series(1, 20) g",
                "INSERT INTO keyed VALUES (1, 'one'), (2, 'two')",
                "INSERT INTO parted VALUES (1, 'eu', 'a'), (2, 'us', 'b')");
        StreamSpec spec = PipelineStack.forward("traps", db, TABLES, true);
        PipelineStack.capture().prepare(spec);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            try (Connection c = Pg.connect(src, "it"); Statement st = c.createStatement()) {
                // a parent and its children in one transaction; foreign keys are present on the target
                c.setAutoCommit(false);
                st.execute("INSERT INTO parent VALUES (1, 'p1')");
                st.execute("INSERT INTO child VALUES (10, 1, 'c10')");
                st.execute("INSERT INTO child VALUES (11, 1, 'c11'), (12, 1, 'c12')");
                st.execute("INSERT INTO parent VALUES (2, 'p2')");
                st.execute("INSERT INTO child VALUES (20, 2, 'c20')");
                c.commit();
                c.setAutoCommit(true);
                // ON DELETE CASCADE on the source: children arrive as their own deletes
                st.execute("DELETE FROM parent WHERE id = 1");
                // unchanged TOASTed values: update another column only
                st.execute("UPDATE toasty SET counter = counter + 1");
                st.execute("UPDATE toasty SET counter = counter + 1 WHERE id <= 5");
                // primary-key update
                st.execute("UPDATE keyed SET id = 3, v = 'three' WHERE id = 1");
                st.execute("UPDATE keyed SET id = id + 10");
                // a row moving between partitions
                st.execute("UPDATE parted SET region = 'us' WHERE id = 1");
                st.execute("INSERT INTO parted VALUES (3, 'eu', 'c')");
                // no primary key, REPLICA IDENTITY FULL: duplicates, update one, delete one
                st.execute("INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, NULL)");
                st.execute("UPDATE nokey SET b = 'y' WHERE a = 2");
                st.execute("DELETE FROM nokey WHERE ctid = (SELECT ctid FROM nokey WHERE a = 1 LIMIT 1)");
                // identity (GENERATED ALWAYS) and generated columns
                st.execute("INSERT INTO ident (v) VALUES (1), (2), (3)");
                st.execute("UPDATE ident SET v = 10 WHERE id = 2");
                // a hostile quoted name
                st.execute("INSERT INTO \"we\"\"ird sch.ema\".\"Tab,le \"\"x\"\"; DROP TABLE t; --\" VALUES (1, 'a'), (2, 'b')");
                st.execute("UPDATE \"we\"\"ird sch.ema\".\"Tab,le \"\"x\"\"; DROP TABLE t; --\" SET \"SELECT\" = 'bb' WHERE \"col \"\"1\"\"\" = 2");
                st.execute("DELETE FROM \"we\"\"ird sch.ema\".\"Tab,le \"\"x\"\"; DROP TABLE t; --\" WHERE \"col \"\"1\"\"\" = 1");
            }
            StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            assertNull(a.failure(), () -> String.valueOf(a.failure()));
            for (String t : List.of("parent", "child", "toasty", "keyed", "parted", "nokey", "ident",
                    "\"we\"\"ird sch.ema\".\"Tab,le \"\"x\"\"; DROP TABLE t; --\"")) {
                String q = t.contains(".") ? t : "public." + t;
                assertEquals(Compare.tableText(src, q), Compare.tableText(PipelineStack.target(db), q), t + " differs");
            }
            try (Connection c = Pg.connect(PipelineStack.target(db), "it"); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE big LIKE '%unchanged%' OR length(big) < 12800),"
                            + " count(*) FROM toasty")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "a TOASTed value was lost");
                assertEquals(20, rs.getInt(2));
            }
            try (Connection c = Pg.connect(PipelineStack.target(db), "it"); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT tableoid::regclass::text FROM parted WHERE id = 1")) {
                rs.next();
                assertEquals("parted_us", rs.getString(1), "the row did not move to its new partition");
            }
            assertTrue(a.applier().progress().replicaRole());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
