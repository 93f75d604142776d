package io.dbmigrate.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.validation.ChunkVerdict;
import io.dbmigrate.activities.validation.Difference;
import io.dbmigrate.activities.validation.Difference.Kind;
import io.dbmigrate.activities.validation.Progress;
import io.dbmigrate.activities.validation.Progress.Pass;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.validation.ValidationEngine.Options;
import io.dbmigrate.activities.validation.ValidationReport;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The validation engine on two real clusters, no migration: what it finds, what it holds, how it resumes. */
class ValidationEngineIT {
    static final String DB = "dbmigrate_validation_it";
    static Endpoint src;
    static Endpoint tgt;

    @BeforeAll
    static void clusters() throws SQLException {
        TwoClusters.get();
        TwoClusters.freshDatabases(DB, "");
        src = TwoClusters.source(DB);
        tgt = TwoClusters.target(DB);
    }

    static Options small() {
        return Options.defaults().withChunkRows(2_000).withLeafRows(300).withFetchSize(200);
    }

    static TableReport validate(TableRef t, Options o) throws Exception {
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, Progress.none(), null, System.out::println)) {
            return e.table(t);
        }
    }

    /** kind per key text, e.g. {"7": MISSING}. */
    static Map<String, Kind> kinds(TableReport r) {
        Map<String, Kind> out = new TreeMap<>();
        for (Difference d : r.differences()) {
            out.put(String.join("|", d.key()), d.kind());
        }
        return out;
    }

    static String one(Endpoint e, String sql) throws SQLException {
        try (Connection c = Pg.connect(e, "it")) {
            return Pg.one(c, sql);
        }
    }

    /** The verdict without the listed keys (a failure message stays readable). */
    static String brief(TableReport r) {
        return r.table() + ": " + r.sourceRows() + "/" + r.targetRows() + " rows, " + r.chunks() + " chunks, " + r.missing() + " missing, "
                + r.extra() + " extra, " + r.different() + " different, first " + r.differences().stream().limit(5).toList();
    }

    static void both(String... sql) throws SQLException {
        TwoClusters.exec(src, sql);
        TwoClusters.exec(tgt, sql);
    }

    /** The same table of {@code rows} rows keyed by bigint (1 to rows) on both sides. */
    static void bigintTable(String name, int rows) throws SQLException {
        both("DROP TABLE IF EXISTS " + name, "CREATE TABLE " + name + " (id bigint PRIMARY KEY, " + COLUMNS + ")",
                "INSERT INTO " + name + " SELECT g, " + VALUES + " FROM generate_series(1, " + rows + ") g", "ANALYZE " + name);
    }

    static final String COLUMNS = "n int NOT NULL, s text, f double precision, ts timestamptz, b bytea";
    static final String VALUES = "g % 1000, CASE WHEN g % 10 = 0 THEN NULL ELSE 'text ' || g END, CASE WHEN g % 7 = 0 THEN 0 ELSE g / 3.0 END,"
            + " timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute', decode(md5(g::text), 'hex')";

    @Test
    void everyKindOfDifferenceIsFoundAndClassified() throws Exception {
        bigintTable("kinds_big", 20000);
        TwoClusters.exec(tgt,
                "DELETE FROM kinds_big WHERE id = 101", // missing on the target
                "INSERT INTO kinds_big SELECT 50000, " + VALUES.replace("g", "50000") + "", // extra
                "UPDATE kinds_big SET n = n + 1 WHERE id = 2002", // a value
                "UPDATE kinds_big SET s = '' WHERE id = 4000", // NULL on the source, '' on the target
                "UPDATE kinds_big SET f = '-0' WHERE id = 7007", // 0 on the source, -0 on the target
                "UPDATE kinds_big SET s = s || ' ' WHERE id = 9001", // a trailing space
                "UPDATE kinds_big SET id = -5 WHERE id = 15001"); // moved to another chunk: missing + extra
        TableReport r = validate(new TableRef("public", "kinds_big"), small());
        assertEquals(Map.of("101", Kind.MISSING, "50000", Kind.EXTRA, "2002", Kind.DIFFERENT, "4000", Kind.DIFFERENT,
                "7007", Kind.DIFFERENT, "9001", Kind.DIFFERENT, "15001", Kind.MISSING, "-5", Kind.EXTRA), kinds(r), brief(r));
        assertEquals(2, r.missing());
        assertEquals(2, r.extra());
        assertEquals(4, r.different());
        assertTrue(r.chunks() > 5, "several chunks: " + r.chunks());
        assertFalse(r.equal());
    }

    @Test
    void uuidAndCompositeKeysAreNarrowedToTheRow() throws Exception {
        both("DROP TABLE IF EXISTS kinds_uuid", "CREATE TABLE kinds_uuid (id uuid PRIMARY KEY, " + COLUMNS + ")",
                "INSERT INTO kinds_uuid SELECT md5(g::text)::uuid, " + VALUES + " FROM generate_series(1, 20000) g",
                "DROP TABLE IF EXISTS kinds_comp", "CREATE TABLE kinds_comp (tenant int, seq bigint, " + COLUMNS + ", PRIMARY KEY (tenant, seq))",
                "INSERT INTO kinds_comp SELECT g % 7, g, " + VALUES + " FROM generate_series(1, 20000) g",
                "ANALYZE kinds_uuid, kinds_comp");
        TwoClusters.exec(tgt, "DELETE FROM kinds_uuid WHERE id = md5('33')::uuid", "UPDATE kinds_uuid SET s = 'changed' WHERE id = md5('19999')::uuid",
                "DELETE FROM kinds_comp WHERE (tenant, seq) = (3, 10)", "UPDATE kinds_comp SET f = '-0' WHERE (tenant, seq) = (0, 7)",
                "INSERT INTO kinds_comp (tenant, seq, n) VALUES (99, 1, 1)");
        String u33 = one(src, "SELECT md5('33')::uuid::text");
        String u19999 = one(src, "SELECT md5('19999')::uuid::text");
        assertEquals(Map.of(u33, Kind.MISSING, u19999, Kind.DIFFERENT), kinds(validate(new TableRef("public", "kinds_uuid"), small())));
        assertEquals(Map.of("3|10", Kind.MISSING, "0|7", Kind.DIFFERENT, "99|1", Kind.EXTRA),
                kinds(validate(new TableRef("public", "kinds_comp"), small())));
    }

    @Test
    void aCompositeKeyInKeyOrderIsReadByKeyRangesAndAgreesWithBlockRanges() throws Exception {
        // the source's rows in key order (read by key ranges), the target's shuffled (read by block ranges): the chunk
        // sums of the two ways agree wherever the rows do
        both("DROP TABLE IF EXISTS comp_ordered", "CREATE TABLE comp_ordered (day int, seq bigint, " + COLUMNS + ", PRIMARY KEY (day, seq))");
        TwoClusters.exec(src, "INSERT INTO comp_ordered SELECT g / 1000, g, " + VALUES + " FROM generate_series(1, 20000) g ORDER BY 1, 2",
                "ANALYZE comp_ordered");
        TwoClusters.exec(tgt, "INSERT INTO comp_ordered SELECT g / 1000, g, " + VALUES + " FROM generate_series(1, 20000) g ORDER BY md5(g::text)",
                "ANALYZE comp_ordered");
        TwoClusters.exec(tgt, "DELETE FROM comp_ordered WHERE (day, seq) = (0, 1)", // in the first chunk
                "UPDATE comp_ordered SET s = 'changed' WHERE (day, seq) = (9, 9999)",
                "INSERT INTO comp_ordered (day, seq, n) VALUES (99, 1, 1)"); // after the last bound
        TableRef t = new TableRef("public", "comp_ordered");
        Progress.InMemory kept = new Progress.InMemory();
        try (ValidationEngine e = new ValidationEngine(src, tgt, small(), kept, null, System.out::println)) {
            TableReport r = e.table(t);
            assertEquals(Map.of("0|1", Kind.MISSING, "9|9999", Kind.DIFFERENT, "99|1", Kind.EXTRA), kinds(r), brief(r));
            assertTrue(r.chunks() > 5, "chunks: " + r.chunks());
        }
        assertTrue(kept.pass(t.toString(), true).orElseThrow().keyRanges(), "source by key ranges");
        assertFalse(kept.pass(t.toString(), false).orElseThrow().keyRanges(), "target by block ranges");
    }

    @Test
    void aVarcharKeyInKeyOrderIsReadByKeyRangesOnBothSides() throws Exception {
        both("DROP TABLE IF EXISTS codes_ordered", "CREATE TABLE codes_ordered (code varchar(40) COLLATE \"C\" PRIMARY KEY, " + COLUMNS + ")",
                "INSERT INTO codes_ordered SELECT 'item-' || lpad(g::text, 8, '0'), " + VALUES + " FROM generate_series(1, 20000) g ORDER BY 1",
                "ANALYZE codes_ordered");
        TwoClusters.exec(tgt, "DELETE FROM codes_ordered WHERE code = 'item-00000001'", // the first chunk
                "UPDATE codes_ordered SET n = -1 WHERE code = 'item-00012345'",
                "INSERT INTO codes_ordered (code, n) VALUES ('zz-after-the-last', 1)");
        TableRef t = new TableRef("public", "codes_ordered");
        Progress.InMemory kept = new Progress.InMemory();
        try (ValidationEngine e = new ValidationEngine(src, tgt, small(), kept, null, System.out::println)) {
            TableReport r = e.table(t);
            assertEquals(Map.of("item-00000001", Kind.MISSING, "item-00012345", Kind.DIFFERENT, "zz-after-the-last", Kind.EXTRA), kinds(r),
                    brief(r));
        }
        assertTrue(kept.pass(t.toString(), true).orElseThrow().keyRanges(), "source by key ranges");
        assertTrue(kept.pass(t.toString(), false).orElseThrow().keyRanges(), "target by key ranges");
    }

    @Test
    void equalDataInAnotherPhysicalOrderReportsNothing() throws Exception {
        TwoClusters.exec(src, "DROP TABLE IF EXISTS order_t", "CREATE TABLE order_t (id bigint PRIMARY KEY, " + COLUMNS + ")",
                "INSERT INTO order_t SELECT g, " + VALUES + " FROM generate_series(1, 20000) g ORDER BY g", "ANALYZE order_t");
        // the target: written in random order, then every row moved by an update and back (other tuples, other pages)
        TwoClusters.exec(tgt, "DROP TABLE IF EXISTS order_t", "CREATE TABLE order_t (id bigint PRIMARY KEY, " + COLUMNS + ")",
                "INSERT INTO order_t SELECT g, " + VALUES + " FROM generate_series(1, 20000) g ORDER BY random()",
                "UPDATE order_t SET n = n + 1 WHERE id % 3 = 0", "UPDATE order_t SET n = n - 1 WHERE id % 3 = 0", "ANALYZE order_t");
        String firstSource = one(src, "SELECT id::text FROM order_t LIMIT 1");
        String firstTarget = one(tgt, "SELECT id::text FROM order_t LIMIT 1");
        assertNotEquals(firstSource, firstTarget, "the physical orders differ");
        TableReport r = validate(new TableRef("public", "order_t"), small());
        assertTrue(r.equal(), brief(r));
        assertEquals(20000, r.sourceRows());
        assertEquals(20000, r.targetRows());
        assertTrue(r.chunks() > 5, "several chunks: " + r.chunks());
    }

    @Test
    void equalDataUnderOtherSessionDefaultsReportsNothing() throws Exception {
        String db = "dbmigrate_validation_settings";
        TwoClusters.freshDatabases(db, "");
        Endpoint s = TwoClusters.source(db);
        Endpoint g = TwoClusters.target(db);
        // the target database prints times, floats, intervals and bytes otherwise by default: the row texts would differ
        TwoClusters.exec(TwoClusters.target("postgres"), "ALTER DATABASE " + db + " SET timezone = 'Asia/Tokyo'",
                "ALTER DATABASE " + db + " SET extra_float_digits = 0", "ALTER DATABASE " + db + " SET datestyle = 'SQL, DMY'",
                "ALTER DATABASE " + db + " SET intervalstyle = 'sql_standard'", "ALTER DATABASE " + db + " SET bytea_output = 'escape'");
        for (Endpoint e : List.of(s, g)) {
            TwoClusters.exec(e, "CREATE TABLE settings_t (id int PRIMARY KEY, ts timestamptz, d date, f float8, r real, i interval, b bytea)",
                    "INSERT INTO settings_t SELECT g, timestamptz '2026-03-01 12:00:00+00' + g * interval '17 minutes', date '2026-01-01' + g,"
                            + " g / 3.0, g / 7.0, g * interval '1 day 3 hours', decode(md5(g::text), 'hex') FROM generate_series(1, 5000) g");
        }
        Endpoint keepSrc = src;
        Endpoint keepTgt = tgt;
        try {
            src = s;
            tgt = g;
            TableReport r = validate(new TableRef("public", "settings_t"), small());
            assertTrue(r.equal(), brief(r));
            assertEquals(5000, r.sourceRows());
        } finally {
            src = keepSrc;
            tgt = keepTgt;
        }
    }

    @Test
    void textAndCompositeKeysAcrossDatabasesOfDifferentCollations() throws Exception {
        String db = "dbmigrate_validation_icu";
        // the target database collates by ICU's en-US rules (no libc locale but C here); keys ordered otherwise than bytes
        TwoClusters.freshDatabases(db, "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
        Endpoint s = TwoClusters.source(db);
        Endpoint g = TwoClusters.target(db);
        String keys = "(ARRAY['a','B','b','A','_','é','Z','z',' ','0'])[1 + g % 10] || md5(g::text) || CASE WHEN g % 3 = 0 THEN 'É' ELSE 'e' END";
        for (Endpoint e : List.of(s, g)) {
            TwoClusters.exec(e, "CREATE TABLE words (code text PRIMARY KEY, " + COLUMNS + ")",
                    "INSERT INTO words SELECT " + keys + ", " + VALUES + " FROM generate_series(1, 20000) g",
                    "CREATE TABLE pairs (lang text, code varchar(40), v int, PRIMARY KEY (lang, code))",
                    "INSERT INTO pairs SELECT (ARRAY['de','DE','ée','Ea'])[1 + g % 4], " + keys + ", g FROM generate_series(1, 20000) g",
                    "ANALYZE words, pairs");
        }
        try (Connection c = Pg.connect(g, "it")) {
            assertNotEquals(Pg.one(c, "SELECT string_agg(k, ',' ORDER BY k) FROM unnest(ARRAY['a','B','_','Z']) k"),
                    Pg.one(c, "SELECT string_agg(k, ',' ORDER BY k COLLATE \"C\") FROM unnest(ARRAY['a','B','_','Z']) k"),
                    "the target's default collation must order text otherwise than bytes for this test to mean anything");
        }
        String missing = one(s, "SELECT " + keys.replace("g", "4242") + "");
        String changed = one(s, "SELECT " + keys.replace("g", "17") + "");
        TwoClusters.exec(g, "DELETE FROM words WHERE code = '" + missing.replace("'", "''") + "'",
                "UPDATE words SET s = s || ' ' WHERE code = '" + changed.replace("'", "''") + "'",
                "INSERT INTO words (code, n) VALUES ('Ω extra', 1)",
                "UPDATE pairs SET v = -v WHERE lang = 'ée' AND code = (SELECT code FROM pairs WHERE v = 18)");
        String pair18 = one(s, "SELECT lang || '|' || code FROM pairs WHERE v = 18");
        Endpoint keepSrc = src;
        Endpoint keepTgt = tgt;
        try {
            src = s;
            tgt = g;
            assertEquals(Map.of(missing, Kind.MISSING, changed, Kind.DIFFERENT, "Ω extra", Kind.EXTRA),
                    kinds(validate(new TableRef("public", "words"), small())));
            assertEquals(Map.of(pair18, Kind.DIFFERENT), kinds(validate(new TableRef("public", "pairs"), small())));
        } finally {
            src = keepSrc;
            tgt = keepTgt;
        }
    }

    @Test
    void narrowingABigChunkHoldsBoundedRows() throws Exception {
        bigintTable("big_chunk", 200000);
        TwoClusters.exec(tgt, "UPDATE big_chunk SET n = -1 WHERE id = 123457");
        TableRef t = new TableRef("public", "big_chunk");
        // one chunk of 200,000 rows that differ in one; cursors of 500 rows
        Options o = Options.defaults().withChunkRows(1_000_000).withFetchSize(500).withLeafRows(5_000);
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, Progress.none(), null, System.out::println)) {
            TableReport r = e.table(t);
            assertEquals(Map.of("123457", Kind.DIFFERENT), kinds(r));
            assertEquals(1, r.chunks());
            // two cursors' buffers, the split points of each level (200,000 -> 25,000 -> 3,125 rows: two), the sieve's one
            // differing bucket and the one difference; never the chunk
            assertTrue(e.counters().peakRowsHeld() <= 2 * 500 + 2 * o.fanout() + 2, "rows held " + e.counters().peakRowsHeld());
            // the leaf of 3,125 rows sieved in 256 buckets (about 12 rows each), one of them streamed
            assertTrue(e.counters().rowsStreamed() <= 2 * 50, "narrowed before streaming: " + e.counters().rowsStreamed());
        }
        // no splitting at all: the chunk sieved by key hash in each database (256 buckets of about 780 rows here: at
        // most half a cursor's buffer of them a side), and only the differing bucket's rows streamed (held: the cursors,
        // the bucket, the difference)
        try (ValidationEngine e = new ValidationEngine(src, tgt, o.withLeafRows(1_000_000), Progress.none(), null, System.out::println)) {
            assertEquals(Map.of("123457", Kind.DIFFERENT), kinds(e.table(t)));
            assertEquals(256, e.counters().bucketsSieved());
            assertTrue(e.counters().rowsStreamed() > 0 && e.counters().rowsStreamed() <= 2 * 1_000, "one bucket streamed: "
                    + e.counters().rowsStreamed());
            assertTrue(e.counters().peakRowsHeld() <= 2 * 500 + 2, "rows held " + e.counters().peakRowsHeld());
        }
        // half the rows differing (and 123457): the sieve finds every bucket different and streams the chunk whole, through the
        // cursors' buffers only
        TwoClusters.exec(tgt, "UPDATE big_chunk SET n = n + 1 WHERE id <= 100000");
        try (ValidationEngine e = new ValidationEngine(src, tgt, o.withLeafRows(1_000_000).withMaxKeys(10), Progress.none(), null,
                System.out::println)) {
            TableReport r = e.table(t);
            assertEquals(100_001, r.different(), brief(r));
            assertEquals(400_000, e.counters().rowsStreamed());
            assertTrue(e.counters().peakRowsHeld() <= 2 * 500 + 10, "rows held " + e.counters().peakRowsHeld());
        } finally {
            TwoClusters.exec(tgt, "UPDATE big_chunk SET n = n - 1 WHERE id <= 100000");
        }
    }

    /** Dies (as a worker would) once {@code after} chunks finished. */
    static final class DyingProgress implements Progress {
        final Progress.InMemory kept;
        final int after;
        final AtomicInteger done = new AtomicInteger();

        DyingProgress(Progress.InMemory kept, int after) {
            this.kept = kept;
            this.after = after;
        }

        public Optional<List<List<String>>> bounds(String table) {
            return kept.bounds(table);
        }

        public void planned(String table, List<List<String>> bounds) {
            kept.planned(table, bounds);
        }

        public Optional<Pass> pass(String table, boolean source) {
            return kept.pass(table, source);
        }

        public void passed(String table, boolean source, Pass pass) {
            if (!pass.done().isEmpty() && done.incrementAndGet() > after) {
                throw new IllegalStateException("worker died");
            }
            kept.passed(table, source, pass);
        }

        public Map<Integer, ChunkVerdict> finished(String table) {
            return kept.finished(table);
        }

        public void finished(String table, ChunkVerdict verdict) {
            kept.finished(table, verdict);
        }

        public Optional<TableReport> report(String table) {
            return kept.report(table);
        }

        public void reported(TableReport report) {
            kept.reported(report);
        }
    }

    /** A run that died after 9 block ranges: its progress as the next attempt reads it back, and its ranges' counts. */
    record Died(Progress.InMemory progress, int finished, int ranges) {}

    static Died diedAfterNineRanges(TableRef t, Options o) throws Exception {
        Progress.InMemory kept = new Progress.InMemory();
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, new DyingProgress(kept, 9), null, System.out::println)) {
            assertThrows(IllegalStateException.class, () -> e.table(t));
        }
        Progress.Pass s = kept.pass(t.toString(), true).orElseThrow();
        Progress.Pass g = kept.pass(t.toString(), false).orElseThrow();
        int finished = s.done().size() + g.done().size();
        int ranges = s.sliceStarts().size() + g.sliceStarts().size();
        assertEquals(9, finished);
        assertTrue(ranges > 14, "ranges: " + ranges);
        // what a heartbeat carries: the progress as JSON, read back by the next attempt
        ObjectMapper json = new ObjectMapper();
        return new Died(json.readValue(json.writeValueAsString(kept), Progress.InMemory.class), finished, ranges);
    }

    @Test
    void aResumedValidationSkipsTheFinishedChunks() throws Exception {
        bigintTable("resume_t", 30000);
        // the target's rows in no relation to the key: the source is read by key ranges (its rows follow the key), the
        // target by block ranges, and both resume
        TwoClusters.exec(tgt, "CREATE TABLE resume_tmp AS SELECT * FROM resume_t ORDER BY md5(id::text)", "TRUNCATE resume_t",
                "INSERT INTO resume_t SELECT * FROM resume_tmp", "DROP TABLE resume_tmp", "ANALYZE resume_t");
        TwoClusters.exec(tgt, "DELETE FROM resume_t WHERE id IN (5, 29000)");
        TableRef t = new TableRef("public", "resume_t");
        // block ranges of 20 blocks: about 15 on the target; on the source runs of 4 of its 15 chunks, and the two ends
        Options o = small().withParallel(1).withSliceBlocks(20);
        TableReport fresh = validate(t, o);
        Died died = diedAfterNineRanges(t, o);
        assertTrue(died.progress().pass(t.toString(), true).orElseThrow().keyRanges(), "source by key");
        assertFalse(died.progress().pass(t.toString(), false).orElseThrow().keyRanges(), "target by blocks");
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, died.progress(), null, System.out::println)) {
            TableReport r = e.table(t);
            assertEquals(died.ranges() - died.finished(), e.counters().slicesScanned(), "only the block ranges not read before were read");
            assertEquals(kinds(fresh), kinds(r));
            assertEquals(Map.of("5", Kind.MISSING, "29000", Kind.MISSING), kinds(r));
            assertEquals(fresh.sourceRows(), r.sourceRows());
        }
        // and a table reported whole is not read again at all
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, died.progress(), null, System.out::println)) {
            assertEquals(kinds(fresh), kinds(e.table(t)));
            assertEquals(0, e.counters().slicesScanned());
        }
    }

    @Test
    void aKeylessTableIsReadInBlockRangesAndAResumedRunReadsOnlyTheRest() throws Exception {
        both("DROP TABLE IF EXISTS bag_resume", "CREATE TABLE bag_resume (" + COLUMNS + ")",
                "INSERT INTO bag_resume SELECT " + VALUES + " FROM generate_series(1, 30000) g", "ANALYZE bag_resume");
        TwoClusters.exec(tgt, "DELETE FROM bag_resume WHERE n = 7 AND s = 'text 7'"); // the row of g = 7
        TableRef t = new TableRef("public", "bag_resume");
        Options o = small().withParallel(1).withSliceBlocks(20);
        Died died = diedAfterNineRanges(t, o);
        // the buckets recorded by the first attempt, not chosen again
        long buckets = Long.parseLong(died.progress().bounds(t.toString()).orElseThrow().get(1).get(0));
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, died.progress(), null, System.out::println)) {
            TableReport r = e.table(t);
            assertEquals(died.ranges() - died.finished(), e.counters().slicesScanned(), "only the block ranges not read before were read");
            assertTrue(r.keyless());
            assertEquals(30_000, r.sourceRows());
            assertEquals(1, r.missing(), brief(r));
            assertEquals(0, r.extra(), brief(r));
            assertEquals(buckets, r.chunks());
        }
        // the table given a key before the next attempt: its recorded progress no longer fits, and says so
        Died again = diedAfterNineRanges(t, o);
        TwoClusters.exec(src, "ALTER TABLE bag_resume ADD COLUMN id bigserial PRIMARY KEY");
        TwoClusters.exec(tgt, "ALTER TABLE bag_resume ADD COLUMN id bigserial PRIMARY KEY");
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, again.progress(), null, System.out::println)) {
            TableReport r = e.run(List.of(t)).tables().get(0);
            assertTrue(r.error() != null && r.error().contains("whose primary key has changed since"), String.valueOf(r.error()));
        }
    }

    @Test
    void liveModeReportsOnlyDifferencesThatPersistAfterCatchUp() throws Exception {
        bigintTable("live_t", 10000);
        // the target lags: two changes not yet applied; one of them is applied by the time the target "catches up"
        TwoClusters.exec(tgt, "UPDATE live_t SET n = 0 WHERE id = 500", "DELETE FROM live_t WHERE id = 9000");
        TwoClusters.exec(src, "UPDATE live_t SET s = 'lagging' WHERE id = 700");
        AtomicInteger catchUps = new AtomicInteger();
        ValidationEngine.CatchUp catchUp = () -> {
            catchUps.incrementAndGet();
            TwoClusters.exec(tgt, "UPDATE live_t SET s = 'lagging' WHERE id = 700");
        };
        try (ValidationEngine e = new ValidationEngine(src, tgt, small(), Progress.none(), catchUp, System.out::println)) {
            TableReport r = e.table(new TableRef("public", "live_t"));
            assertEquals(Map.of("500", Kind.DIFFERENT, "9000", Kind.MISSING), kinds(r), "the healed row 700 is not reported");
            assertEquals(1, r.missing());
            assertEquals(1, r.different());
            assertTrue(catchUps.get() >= 1);
        }
        // frozen mode: no re-check, the lag counts
        TwoClusters.exec(src, "UPDATE live_t SET s = 'lagging again' WHERE id = 700");
        assertEquals(Map.of("500", Kind.DIFFERENT, "700", Kind.DIFFERENT, "9000", Kind.MISSING),
                kinds(validate(new TableRef("public", "live_t"), small())));
    }

    @Test
    void keylessTablesAreComparedAsMultisets() throws Exception {
        TwoClusters.exec(src, "DROP TABLE IF EXISTS bag", "CREATE TABLE bag (" + COLUMNS + ")",
                "INSERT INTO bag SELECT " + VALUES + " FROM generate_series(1, 20000) g",
                "INSERT INTO bag SELECT " + VALUES + " FROM generate_series(1, 3) g", "ANALYZE bag");
        // the same rows in another order; of the duplicated rows 1-3, row 2 has one copy fewer, and one row is new
        TwoClusters.exec(tgt, "DROP TABLE IF EXISTS bag", "CREATE TABLE bag (" + COLUMNS + ")",
                "INSERT INTO bag SELECT " + VALUES + " FROM generate_series(1, 20000) g ORDER BY random()",
                "INSERT INTO bag SELECT " + VALUES + " FROM generate_series(1, 3) g WHERE g <> 2", "ANALYZE bag");
        TableRef t = new TableRef("public", "bag");
        Options o = small();
        TableReport r = validate(t, o);
        assertTrue(r.keyless());
        assertEquals(1, r.missing(), brief(r));
        assertEquals(0, r.extra(), brief(r));
        assertEquals(List.of("row hash: source 2, target 1"), r.differences().stream().map(Difference::detail).toList());
        assertTrue(r.chunks() >= 8, "hash buckets: " + r.chunks());
        TwoClusters.exec(tgt, "INSERT INTO bag SELECT " + VALUES + " FROM generate_series(2, 2) g");
        assertTrue(validate(t, o).equal(), "equal multisets in different orders");
        TwoClusters.exec(tgt, "INSERT INTO bag (n) VALUES (-1)");
        TableReport extra = validate(t, o);
        assertEquals(1, extra.extra());
        // live: the extra row disappears once the target "catches up"
        try (ValidationEngine e = new ValidationEngine(src, tgt, o, Progress.none(),
                () -> TwoClusters.exec(tgt, "DELETE FROM bag WHERE n = -1"), System.out::println)) {
            assertTrue(e.table(t).equal());
        }
    }

    @Test
    void aPartitionedTableIsReadThroughItsRoot() throws Exception {
        both("DROP TABLE IF EXISTS parts", "CREATE TABLE parts (id bigint, region int, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                "CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN (1)", "CREATE TABLE parts_us PARTITION OF parts FOR VALUES IN (2)",
                // the partitions analysed, not the root: autovacuum never analyses a partitioned table, whose own row
                // estimate then stays unknown
                "INSERT INTO parts SELECT g, 1 + g % 2, 'v' || g FROM generate_series(1, 20000) g", "ANALYZE parts_eu, parts_us");
        TwoClusters.exec(tgt, "DELETE FROM parts WHERE id = 11", "UPDATE parts SET v = 'changed' WHERE id = 15000");
        List<TableRef> listed = ValidationEngine.userTables(src);
        assertTrue(listed.contains(new TableRef("public", "parts")), listed.toString());
        assertFalse(listed.contains(new TableRef("public", "parts_eu")), "partitions are read through their root: " + listed);
        TableReport r = validate(new TableRef("public", "parts"), small());
        assertEquals(Map.of("11|2", Kind.MISSING, "15000|1", Kind.DIFFERENT), kinds(r), brief(r));
        assertEquals(20000, r.sourceRows());
        assertTrue(r.chunks() > 5, "chunks from the partitions' statistics: " + r.chunks());
    }

    @Test
    void aTablesNarrowingRunsBesideTheNextTablesPass() throws Exception {
        both("DROP TABLE IF EXISTS beside_a", "DROP TABLE IF EXISTS beside_b",
                "CREATE TABLE beside_a (id bigint PRIMARY KEY, " + COLUMNS + ")", "CREATE TABLE beside_b (id bigint PRIMARY KEY, " + COLUMNS + ")",
                "INSERT INTO beside_a SELECT g, " + VALUES + " FROM generate_series(1, 10000) g",
                "INSERT INTO beside_b SELECT g, " + VALUES + " FROM generate_series(1, 10000) g", "ANALYZE beside_a, beside_b");
        TwoClusters.exec(tgt, "UPDATE beside_a SET n = -1 WHERE id = 4321");
        // beside_a's narrowing (its live re-check waits here) must not keep beside_b's plan and pass from starting
        CountDownLatch nextStarted = new CountDownLatch(1);
        AtomicBoolean waited = new AtomicBoolean();
        AtomicBoolean overlapped = new AtomicBoolean();
        ValidationEngine.CatchUp catchUp = () -> {
            if (!waited.getAndSet(true)) {
                overlapped.set(nextStarted.await(15, TimeUnit.SECONDS));
            }
        };
        Consumer<String> log = line -> {
            System.out.println(line);
            if (line.startsWith("public.beside_b: about")) {
                nextStarted.countDown();
            }
        };
        try (ValidationEngine e = new ValidationEngine(src, tgt, small(), Progress.none(), catchUp, log)) {
            ValidationReport r = e.run(List.of(new TableRef("public", "beside_a"), new TableRef("public", "beside_b")));
            assertTrue(overlapped.get(), "beside_b's pass started while beside_a was being narrowed");
            assertEquals("public.beside_a", r.tables().get(0).table());
            assertEquals(Map.of("4321", Kind.DIFFERENT), kinds(r.tables().get(0)));
            assertEquals("public.beside_b", r.tables().get(1).table());
            assertTrue(r.tables().get(1).equal(), brief(r.tables().get(1)));
        }
    }

    @Test
    void aWholeRunReportsEveryTable() throws Exception {
        both("DROP TABLE IF EXISTS run_a", "CREATE TABLE run_a (id int PRIMARY KEY, v text)", "INSERT INTO run_a VALUES (1, 'x')");
        try (ValidationEngine e = new ValidationEngine(src, tgt, small(), Progress.none(), null, line -> {})) {
            ValidationReport r = e.run(List.of(new TableRef("public", "run_a"), new TableRef("public", "no_such_table")));
            assertFalse(r.equal());
            assertTrue(r.tables().get(0).equal());
            assertTrue(r.tables().get(1).error().contains("does not exist"), r.tables().get(1).error());
        }
    }
}
