package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.migration.FrozenValidation;
import io.dbmigrate.activities.migration.MigrationValidation;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The frozen validation after a live pass that passed re-checks only the keys the stream touched since the pass
 * began (its mark), and reads a table whole whenever that is not certain. Real source, Kafka, Connect and target;
 * the live pass here runs without concurrent writes, as the activity does it: mark, compare, store the mark.
 */
class FrozenTouchedIT {
    private static final TableRef ITEMS = new TableRef("public", "items");
    private static final TableRef NOTES = new TableRef("public", "notes");
    private static final List<TableRef> TABLES = List.of(ITEMS, NOTES);

    private static String ref(String key) {
        return io.dbmigrate.activities.pipeline.ApplyDataException.keyRef("public.items", key);
    }

    /** Identical tables on both sides (the stream starts without a snapshot), capture prepared. */
    private static StreamSpec stream(String id, String db, int rows) throws Exception {
        PipelineStack.freshDatabases(db);
        String ddl = "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int); CREATE TABLE notes (id int PRIMARY KEY, body text)";
        for (var side : List.of(PipelineStack.source(db), PipelineStack.target(db))) {
            PipelineStack.exec(side, ddl, "INSERT INTO items SELECT g, 'item ' || g, g % 97 FROM generate_series(1, " + rows + ") g",
                    "INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 300) g", "ANALYZE items", "ANALYZE notes");
        }
        StreamSpec spec = PipelineStack.forward(id, db, TABLES, false);
        PipelineStack.capture().prepare(spec);
        return spec;
    }

    /** The live pass as ValidateData (frozen=false) runs it: offset first, then the tables, the mark only if all passed. */
    private static boolean livePass(StreamSpec spec) throws Exception {
        FrozenValidation.Start start = FrozenValidation.beginLive(spec, PipelineStack.bootstrap());
        assertNotNull(start, "a mark can be taken once the stream applies");
        List<TableValidation> results = new ArrayList<>();
        for (TableRef t : TABLES) {
            results.add(MigrationValidation.whole(spec.from(), spec.to(), t, 10_000, null, false));
        }
        boolean passed = ValidationReport.of(false, results).passed();
        if (passed) {
            FrozenValidation.livePassed(spec, start, TABLES);
        }
        return passed;
    }

    private static Map<String, TableValidation> frozen(StreamSpec spec, String bootstrap) throws Exception {
        return FrozenValidation.run(spec.from(), spec.to(), spec, TABLES, 10_000, bootstrap, 2, p -> {}).stream()
                .collect(Collectors.toMap(TableValidation::table, Function.identity()));
    }

    private static void drain(StreamSpec spec) throws Exception {
        StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
    }

    @Test
    void onlyTheTouchedKeysAreReadAndACorruptionOnOneIsCaught() throws Exception {
        String db = "frozen_touched";
        StreamSpec spec = stream("frozen_touched", db, 200_000);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            assertTrue(livePass(spec));

            // 50 keys change on the source after the mark: 40 updates, 5 inserts, 5 deletes; plus a key that moves (2 keys)
            PipelineStack.exec(spec.from(), "UPDATE items SET qty = qty + 1000 WHERE id <= 40",
                    "INSERT INTO items SELECT g, 'new ' || g, 1 FROM generate_series(200001, 200005) g",
                    "DELETE FROM items WHERE id BETWEEN 101 AND 105", "UPDATE items SET id = 300000 WHERE id = 150000");
            drain(spec);
            assertNull(a.failure());

            long t0 = System.nanoTime();
            Map<String, TableValidation> byKeys = frozen(spec, PipelineStack.bootstrap());
            long incrementalMs = (System.nanoTime() - t0) / 1_000_000;
            TableValidation items = byKeys.get("public.items");
            assertTrue(items.matches(), items.toString());
            assertEquals(52, items.recheckedKeys(), items.toString());
            assertEquals(0, items.chunks());
            // found among the 52 keys: 40 updated + 5 inserted + the moved row's new key, on each side
            assertEquals(46, items.sourceRows(), items.toString());
            assertEquals(0, byKeys.get("public.notes").recheckedKeys());

            t0 = System.nanoTime();
            Map<String, TableValidation> whole = frozen(spec, null); // no Kafka: the full pass of before
            long fullMs = (System.nanoTime() - t0) / 1_000_000;
            assertNull(whole.get("public.items").recheckedKeys());
            assertEquals(200_000, whole.get("public.items").sourceRows());
            assertTrue(whole.values().stream().allMatch(TableValidation::matches), whole.toString());
            System.out.printf("FrozenTouchedIT: 200,000-row table, frozen pass by touched keys %d ms (%d keys re-checked), "
                    + "full frozen pass %d ms%n", incrementalMs, items.recheckedKeys(), fullMs);

            // behind the applier's back, on keys the stream touched after the mark: a changed row and a missing row
            PipelineStack.exec(spec.to(), "UPDATE items SET name = 'corrupt' WHERE id = 7", "DELETE FROM items WHERE id = 200003");
            TableValidation caught = frozen(spec, PipelineStack.bootstrap()).get("public.items");
            assertFalse(caught.matches(), caught.toString());
            assertEquals(52, caught.recheckedKeys());
            // redactValues (the default): the keys as the apply errors name the same rows
            assertEquals(List.of(ref("(id=200003)"), ref("(id=7)")).stream().sorted().toList(), caught.mismatchedChunks());
            assertEquals(caught.sourceRows() - 1, caught.targetRows());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
    }

    @Test
    void withoutAMarkEveryTableIsReadWholeAndAnUntouchedCorruptionIsCaught() throws Exception {
        String db = "frozen_nomark";
        StreamSpec spec = stream("frozen_nomark", db, 2_000);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            // a live pass that began but did not pass leaves no mark (beginLive removes the previous one)
            assertTrue(livePass(spec));
            assertNotNull(FrozenValidation.beginLive(spec, PipelineStack.bootstrap()));
            PipelineStack.exec(spec.from(), "UPDATE items SET qty = 0 WHERE id = 1");
            drain(spec);
            PipelineStack.exec(spec.to(), "UPDATE items SET name = 'corrupt' WHERE id = 1500"); // a key the stream never touched
            Map<String, TableValidation> r = frozen(spec, PipelineStack.bootstrap());
            TableValidation items = r.get("public.items");
            assertNull(items.recheckedKeys(), "no mark: the whole table is read");
            assertEquals(2_000, items.sourceRows());
            assertFalse(items.matches(), items.toString());
            assertEquals(1, items.mismatchedChunks().size(), items.toString());
            assertTrue(r.get("public.notes").matches());
            assertNull(r.get("public.notes").recheckedKeys());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
    }

    @Test
    void aTruncateAfterTheMarkMakesThatTableAFullCheck() throws Exception {
        String db = "frozen_truncate";
        StreamSpec spec = stream("frozen_truncate", db, 2_000);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            assertTrue(livePass(spec));
            PipelineStack.exec(spec.from(), "TRUNCATE notes", "INSERT INTO notes VALUES (1, 'again')", "UPDATE items SET qty = 1 WHERE id = 2");
            drain(spec);
            assertNull(a.failure());
            Map<String, TableValidation> r = frozen(spec, PipelineStack.bootstrap());
            assertNull(r.get("public.notes").recheckedKeys(), r.toString());
            assertEquals(1, r.get("public.notes").sourceRows());
            assertEquals(1, r.get("public.items").recheckedKeys(), r.toString());
            assertTrue(r.values().stream().allMatch(TableValidation::matches), r.toString());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
    }

    /**
     * The live re-check right before the pause: it reads only the keys changed since the mark, and moves the mark,
     * so the frozen pass afterwards re-checks only what changed after the re-check; a corruption on a key it reads
     * is reported, and then the mark stays where it was.
     */
    @Test
    void theRecheckBeforeThePauseMovesTheMarkSoTheFrozenPassReadsOnlyLaterChanges() throws Exception {
        String db = "frozen_recheck";
        StreamSpec spec = stream("frozen_recheck", db, 20_000);
        ValidationEngine.CatchUp drain = () -> drain(spec);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            assertTrue(livePass(spec));
            PipelineStack.exec(spec.from(), "UPDATE items SET qty = -1 WHERE id <= 30");
            drain(spec);

            Map<String, TableValidation> recheck = FrozenValidation.recheckLive(spec.from(), spec.to(), spec, TABLES, 10_000,
                    PipelineStack.bootstrap(), drain, p -> {}).stream().collect(Collectors.toMap(TableValidation::table, Function.identity()));
            assertTrue(recheck.get("public.items").matches(), recheck.toString());
            assertEquals(30, recheck.get("public.items").recheckedKeys(), "only the keys changed since the mark");

            PipelineStack.exec(spec.from(), "UPDATE items SET qty = -2 WHERE id BETWEEN 1001 AND 1003");
            drain(spec);
            TableValidation frozen = frozen(spec, PipelineStack.bootstrap()).get("public.items");
            assertTrue(frozen.matches(), frozen.toString());
            assertEquals(3, frozen.recheckedKeys(), "the mark moved: only what changed after the re-check");

            // a corruption on a key changed since the mark: the re-check reports it and the mark does not move
            PipelineStack.exec(spec.to(), "UPDATE items SET name = 'corrupt' WHERE id = 1002");
            TableValidation bad = FrozenValidation.recheckLive(spec.from(), spec.to(), spec, TABLES, 10_000,
                    PipelineStack.bootstrap(), drain, p -> {}).get(0);
            assertEquals(List.of(ref("(id=1002)")), bad.mismatchedChunks(), bad.toString());
            assertEquals(3, frozen(spec, PipelineStack.bootstrap()).get("public.items").recheckedKeys());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
    }
}
