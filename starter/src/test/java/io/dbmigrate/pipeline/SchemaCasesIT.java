package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Legal source schemas that the pipeline carries exactly instead of refusing (issue 17), each through the real
 * pipeline (Debezium, Kafka, the applier) and compared whole with the source. Source tables belong to an ordinary role.
 */
class SchemaCasesIT {
    /** A text value of about 32 kB of md5 hex: too large to stay in the row, so it is TOASTed out of line. */
    static final String BIG = "(SELECT string_agg(md5(random()::text || s), '') FROM generate_series(1, 1000) s)";

    /** A statement run on the source; several in one element run in one transaction. */
    @FunctionalInterface
    interface Workload {
        void run(Statement st) throws Exception;
    }

    /**
     * Creates {@code ddl} on both sides (the source's tables owned by an ordinary role), seeds the source, streams
     * {@code workload} through the pipeline, and compares every table.
     */
    static void carry(String db, String[] ddl, String[] seed, Workload workload, String... tables) throws Exception {
        carry(db, ddl, seed, workload, a -> {}, tables);
    }

    /** A check on the applier and the target once the stream is drained and compared. */
    @FunctionalInterface
    interface AfterDrain {
        void check(ApplierThread applier) throws Exception;
    }

    static void carry(String db, String[] ddl, String[] seed, Workload workload, AfterDrain after, String... tables)
            throws Exception {
        PipelineStack.freshDatabases(db);
        var src = PipelineStack.source(db);
        String owner = db + "_owner";
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP ROLE IF EXISTS " + owner, "CREATE ROLE " + owner + " NOLOGIN");
        PipelineStack.exec(src, "GRANT CREATE ON SCHEMA public TO " + owner);
        try (Connection c = Pg.connect(src, "it"); Statement st = c.createStatement()) {
            st.execute("SET ROLE " + owner);
            for (String s : ddl) {
                st.execute(s);
            }
        }
        PipelineStack.exec(PipelineStack.target(db), ddl);
        PipelineStack.exec(src, seed);
        List<TableRef> refs = Arrays.stream(tables).map(t -> new TableRef("public", t)).toList();
        StreamSpec spec = PipelineStack.forward(db, db, refs, true);
        PipelineStack.capture().prepare(spec);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            try (Connection c = Pg.connect(src, "it"); Statement st = c.createStatement()) {
                workload.run(st);
            }
            try {
                // 3 minutes: a 300,000-change transaction crosses Debezium at 5,000-20,000 changes/s on 2 shared cores
                StreamMonitor.drain(spec, null, Duration.ofSeconds(180), s -> {});
            } catch (Exception e) {
                throw new AssertionError("not drained; applier: " + a.failure(), e);
            }
            assertNull(a.failure(), () -> String.valueOf(a.failure()));
            for (String t : tables) {
                List<String> s = Compare.tableText(src, "public." + t);
                List<String> d = Compare.tableText(PipelineStack.target(db), "public." + t);
                assertEquals(s.size(), d.size(), () -> t + ": " + Compare.diff(s, d));
                assertEquals(s, d, () -> t + ": " + Compare.diff(s, d));
            }
            after.check(a);
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
        PipelineStack.exec(PipelineStack.source("postgres"), "DROP DATABASE " + db + " WITH (FORCE)", "DROP ROLE " + owner);
    }

    /** One source transaction of several statements. */
    static void tx(Statement st, String... sql) throws Exception {
        Connection c = st.getConnection();
        c.setAutoCommit(false);
        for (String s : sql) {
            st.execute(s);
        }
        c.commit();
        c.setAutoCommit(true);
    }

    /**
     * Case 1: a primary-key update of a row whose TOASTed value is unchanged (REPLICA IDENTITY DEFAULT). pgoutput sends
     * the new row with that value marked unchanged; Debezium sends a key change as a DELETE and a CREATE, the CREATE
     * without the value. The row is moved on the target by one UPDATE, so the value stays.
     */
    @Test
    void keyUpdateKeepsAnUnchangedToastedValue() throws Exception {
        carry("case_toast_key",
                new String[] {"CREATE TABLE toast_key (id int PRIMARY KEY, counter int, big text, note text)"},
                new String[] {"INSERT INTO toast_key SELECT g, 0, " + BIG + ", NULL FROM generate_series(1, 10) g"},
                st -> {
                    st.execute("UPDATE toast_key SET id = id + 1000 WHERE id <= 3");
                    st.execute("UPDATE toast_key SET id = id + 1000, note = 'moved' WHERE id = 4");
                    tx(st, "UPDATE toast_key SET id = 2005 WHERE id = 5", "UPDATE toast_key SET id = 5, counter = 7 WHERE id = 2005",
                            "UPDATE toast_key SET id = id + 3000 WHERE id = 6");
                    // a plain update of another column keeps the value too
                    st.execute("UPDATE toast_key SET counter = counter + 1 WHERE id >= 7");
                    st.execute("UPDATE toast_key SET id = 0 WHERE id = 1001");
                },
                "toast_key");
    }

    /**
     * Case 2: logical decoding messages (pg_logical_emit_message), inside a transaction with row changes, alone in one,
     * and non-transactional. Debezium counts a transactional message in its transaction's event count but sends it
     * to a topic of its own; the applier applies the row changes exactly and waits for nothing else.
     */
    @Test
    void logicalDecodingMessagesDoNotStallOrBreakTransactions() throws Exception {
        carry("case_messages",
                new String[] {"CREATE TABLE msgs (id int PRIMARY KEY, v text)"},
                new String[] {"INSERT INTO msgs VALUES (0, 'seed')"},
                st -> {
                    tx(st, "INSERT INTO msgs VALUES (1, 'a')", "SELECT pg_logical_emit_message(true, 'x', 'payload')",
                            "UPDATE msgs SET v = 'b' WHERE id = 1");
                    st.execute("SELECT pg_logical_emit_message(false, 'y', 'not transactional')");
                    st.execute("INSERT INTO msgs VALUES (2, 'c')");
                    tx(st, "SELECT pg_logical_emit_message(true, 'only', 'nothing else')");
                    tx(st, "INSERT INTO msgs VALUES (3, 'd')", "SELECT pg_logical_emit_message(false, 'z', 'inside')",
                            "SELECT pg_logical_emit_message(true, '', 'empty prefix')", "DELETE FROM msgs WHERE id = 0");
                    st.execute("UPDATE msgs SET v = v || '!'");
                },
                "msgs");
    }

    /**
     * Case 4: stored generated columns on a table without a key (REPLICA IDENTITY FULL), with duplicate rows.
     * pgoutput does not publish generated columns (before PostgreSQL 18): the applier neither writes them nor
     * needs them to find a row.
     */
    @Test
    void generatedColumnsOnAKeylessTable() throws Exception {
        carry("case_generated",
                new String[] {"CREATE TABLE gen_nokey (a int, b text, twice int GENERATED ALWAYS AS (a * 2) STORED,"
                        + " label text GENERATED ALWAYS AS (coalesce(b, '-') || '!') STORED)",
                        "ALTER TABLE gen_nokey REPLICA IDENTITY FULL"},
                new String[] {"INSERT INTO gen_nokey (a, b) VALUES (1, 'x'), (1, 'x'), (2, NULL), (3, 'y')"},
                st -> {
                    st.execute("INSERT INTO gen_nokey (a, b) VALUES (1, 'x'), (4, 'z'), (NULL, NULL)");
                    st.execute("UPDATE gen_nokey SET b = 'w' WHERE a = 2");
                    st.execute("UPDATE gen_nokey SET a = 5 WHERE ctid = (SELECT ctid FROM gen_nokey WHERE a = 1 LIMIT 1)");
                    st.execute("DELETE FROM gen_nokey WHERE ctid = (SELECT ctid FROM gen_nokey WHERE a = 1 LIMIT 1)");
                    st.execute("DELETE FROM gen_nokey WHERE a = 3");
                    st.execute("UPDATE gen_nokey SET a = a + 10 WHERE a = 4");
                    st.execute("UPDATE gen_nokey SET b = 'n' WHERE a IS NULL");
                },
                "gen_nokey");
    }

    /**
     * Case 5: REPLICA IDENTITY USING INDEX, on a table whose primary key is another column and on one without a
     * primary key. Before-images hold only the index's columns; the applier keys the rows of such a table by them,
     * including updates that change them, and a change of them on a row with an unchanged TOASTed value.
     */
    @Test
    void replicaIdentityUsingIndex() throws Exception {
        carry("case_ident_index",
                new String[] {"CREATE TABLE idx_pk (id int PRIMARY KEY, code text NOT NULL, v text, big text)",
                        "CREATE UNIQUE INDEX idx_pk_code ON idx_pk (code)",
                        "ALTER TABLE idx_pk REPLICA IDENTITY USING INDEX idx_pk_code",
                        "CREATE TABLE idx_nopk (a int NOT NULL, b text NOT NULL, v text)",
                        "CREATE UNIQUE INDEX idx_nopk_ab ON idx_nopk (a, b)",
                        "ALTER TABLE idx_nopk REPLICA IDENTITY USING INDEX idx_nopk_ab"},
                new String[] {"INSERT INTO idx_pk SELECT g, 'c' || g, 'v', " + BIG + " FROM generate_series(1, 8) g",
                        "INSERT INTO idx_nopk SELECT g, 'b' || g, 'v' FROM generate_series(1, 8) g"},
                st -> {
                    st.execute("UPDATE idx_pk SET v = 'v2' WHERE id = 1");
                    st.execute("UPDATE idx_pk SET id = id + 100 WHERE id = 2");
                    st.execute("UPDATE idx_pk SET code = code || '-new' WHERE id = 3");
                    st.execute("UPDATE idx_pk SET code = 'c4b', id = 400, v = 'both' WHERE id = 4");
                    st.execute("DELETE FROM idx_pk WHERE id = 5");
                    st.execute("INSERT INTO idx_pk VALUES (9, 'c9', 'new', 'small')");
                    st.execute("UPDATE idx_pk SET code = 'c9b' WHERE id = 9");
                    tx(st, "UPDATE idx_pk SET code = 'tmp' WHERE id = 6", "UPDATE idx_pk SET code = 'c6' WHERE id = 7",
                            "UPDATE idx_pk SET code = 'c7' WHERE id = 6");
                    st.execute("UPDATE idx_nopk SET v = 'v2' WHERE a = 1");
                    st.execute("UPDATE idx_nopk SET a = a + 100 WHERE a = 2");
                    st.execute("UPDATE idx_nopk SET b = 'moved', v = 'm' WHERE a = 3");
                    st.execute("DELETE FROM idx_nopk WHERE a = 4");
                    st.execute("INSERT INTO idx_nopk VALUES (9, 'b9', 'new')");
                    tx(st, "UPDATE idx_nopk SET a = 0 WHERE a = 5", "UPDATE idx_nopk SET a = 5, v = 'back' WHERE a = 0");
                },
                "idx_pk", "idx_nopk");
    }

    /**
     * Case 3: one source transaction of 300,000 row changes lands as one target transaction while the applier holds
     * a bounded part of it in memory (before, it held the whole transaction until its END).
     */
    @Test
    void aVeryLargeTransactionIsAppliedWithBoundedMemory() throws Exception {
        carry("case_large_tx",
                new String[] {"CREATE TABLE large_tx (id int PRIMARY KEY, v text, n int)"},
                new String[] {"INSERT INTO large_tx VALUES (0, 'seed', 0)"},
                st -> tx(st, "INSERT INTO large_tx SELECT g, md5(g::text), g FROM generate_series(1, 250000) g",
                        "UPDATE large_tx SET n = -n WHERE id % 5 = 0",
                        "DELETE FROM large_tx WHERE id % 50 = 1"),
                a -> {
                    int held = a.applier().heldHighWater();
                    assertTrue(held > 0 && held <= ChangeApplier.MAX_HELD_CHANGES, "held " + held + " changes at once");
                    // one source transaction, one target transaction
                    try (Connection c = Pg.connect(PipelineStack.target("case_large_tx"), "it")) {
                        assertEquals("1", Pg.one(c, "SELECT count(DISTINCT xmin::text)::text FROM large_tx WHERE id > 0"));
                    }
                },
                "large_tx");
    }
}
