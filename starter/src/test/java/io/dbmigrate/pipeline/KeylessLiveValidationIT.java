package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.migration.MigrationValidation;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The live validation of a table without a key (REPLICA IDENTITY FULL, equal rows) while a writer keeps changing it:
 * before, the first whole read that differed failed the migration (the source read ran ahead of the target's); now it
 * is compared again as a multiset after each drain, passes when a round agrees, fails when the source stood still and
 * the target still differs, and is left to the exact check inside the write freeze when the writer moved it in every
 * round.
 */
class KeylessLiveValidationIT {
    private static final TableRef READINGS = new TableRef("public", "readings");

    private static StreamSpec stream(String db) throws Exception {
        PipelineStack.freshDatabases(db);
        for (var side : List.of(PipelineStack.source(db), PipelineStack.target(db))) {
            PipelineStack.exec(side, "CREATE TABLE readings (sensor int, value numeric, note text)",
                    "ALTER TABLE readings REPLICA IDENTITY FULL",
                    "INSERT INTO readings SELECT g % 50, g % 7, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' END FROM generate_series(1, 3000) g");
        }
        StreamSpec spec = PipelineStack.forward(db, db, List.of(READINGS), false);
        PipelineStack.capture().prepare(spec);
        return spec;
    }

    private static ValidationEngine.CatchUp drain(StreamSpec spec) {
        return () -> StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
    }

    /** The engine in live mode, as the migration's validations run it. */
    private static TableValidation live(StreamSpec spec) throws Exception {
        return MigrationValidation.whole(spec.from(), spec.to(), READINGS, 1000, drain(spec), true);
    }

    /** Inserts, updates and deletes of equal rows, one transaction every 20 ms, until stopped. */
    private static Thread writer(StreamSpec spec, AtomicBoolean go, AtomicInteger rounds) {
        Thread w = new Thread(() -> {
            try (Connection c = Pg.connect(spec.from(), "it-writer"); Statement st = c.createStatement()) {
                for (int i = 0; go.get(); i++) {
                    st.execute("INSERT INTO readings VALUES (" + (i % 50) + ", 1, 'w')");
                    st.execute("UPDATE readings SET value = value + 1 WHERE ctid = (SELECT ctid FROM readings WHERE sensor = "
                            + (i % 50) + " LIMIT 1)");
                    st.execute("DELETE FROM readings WHERE ctid = (SELECT ctid FROM readings WHERE sensor = " + ((i + 7) % 50) + " LIMIT 1)");
                    rounds.incrementAndGet();
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "it-keyless-writer");
        w.start();
        return w;
    }

    @Test
    void aKeylessTableUnderWritesIsNeverFailedLiveAndARealDifferenceIsCaught() throws Exception {
        StreamSpec spec = stream("keyless_live");
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            AtomicBoolean go = new AtomicBoolean(true);
            AtomicInteger written = new AtomicInteger();
            Thread w = writer(spec, go, written);
            try {
                for (int i = 0; i < 5; i++) {
                    TableValidation live = live(spec);
                    assertTrue(live.matches(), "equal data under writes must not fail the live check: " + live);
                }
            } finally {
                go.set(false);
                w.join();
            }
            assertTrue(written.get() > 20, "the writer wrote " + written.get() + " rounds");

            // writes stopped: equal, settled
            drain(spec).await();
            TableValidation quiet = live(spec);
            assertTrue(quiet.matches(), quiet.toString());
            assertNull(quiet.unsettled(), quiet.toString());

            // a row the target has twice: the source stands still, so the difference persists in every round and counts
            PipelineStack.exec(spec.to(), "INSERT INTO readings SELECT * FROM readings LIMIT 1");
            TableValidation bad = live(spec);
            assertFalse(bad.matches(), bad.toString());
            assertEquals(bad.sourceRows() + 1, bad.targetRows(), bad.toString());
            assertEquals(1L, bad.extraRows(), "the duplicate is an extra row on the target: " + bad);

            // the same difference under a writer is unsettled live, and the whole check with writes stopped catches it
            go.set(true);
            Thread w2 = writer(spec, go, written);
            TableValidation moving;
            try {
                moving = live(spec);
            } finally {
                go.set(false);
                w2.join();
            }
            assertNotNull(moving.unsettled(), moving.toString());
            drain(spec).await();
            assertFalse(MigrationValidation.whole(spec.from(), spec.to(), READINGS, 1000, null, true).matches());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers("keyless_live");
    }
}
