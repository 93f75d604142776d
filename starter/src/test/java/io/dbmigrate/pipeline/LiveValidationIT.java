package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.impl.MigrationActivitiesImpl;
import io.dbmigrate.activities.migration.StoredProgress;
import io.dbmigrate.activities.migration.ValidationBeat;
import io.dbmigrate.activities.pipeline.ApplyDataException;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.activities.MigrationActivities;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.activity.ActivityOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * ValidateData's live pass (frozen=false) as the workflow runs it, through Temporal's activity test environment: a
 * stopped attempt resumes from its heartbeat and reads only the block ranges it had not read; a planted difference
 * is found with its kind and key, the key hashed in what reaches history, real in the report files at reportPath.
 */
class LiveValidationIT {
    private static final TableRef ITEMS = new TableRef("public", "items");
    private static final Path REPORTS = PipelineStack.ROOT.resolve("starter/target/it-pipeline/reports");

    private static StreamSpec stream(String db, int rows) throws Exception {
        PipelineStack.freshDatabases(db);
        for (var side : List.of(PipelineStack.source(db), PipelineStack.target(db))) {
            PipelineStack.exec(side, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
                    "INSERT INTO items SELECT g, 'item ' || g, g % 97 FROM generate_series(1, " + rows + ") g", "ANALYZE items");
        }
        StreamSpec spec = PipelineStack.forward(db, db, List.of(ITEMS), false);
        PipelineStack.capture().prepare(spec);
        return spec;
    }

    private static MigrationPlan plan(String db, boolean redact) {
        return new MigrationPlan(db, PipelineStack.source(db), PipelineStack.target(db), List.of("public"), null,
                new MigrationPlan.Thresholds(5.0, 16L * 1024 * 1024, 2_000), "auto", null, null, null, null, redact, null);
    }

    private static MigrationActivities activities(TestActivityEnvironment env, long rowsPerSec) {
        env.registerActivitiesImplementations(new MigrationActivitiesImpl(null, PipelineStack.bootstrap(), REPORTS,
                o -> o.withSliceBlocks(64).withMaxRowsPerSec(rowsPerSec)));
        return env.newActivityStub(MigrationActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(10))
                // the SDK sends heartbeats at most every 0.8 timeouts: short, so the listener sees the validation move
                .setHeartbeatTimeout(Duration.ofSeconds(3)).build());
    }

    /** One attempt of ValidateData, given the heartbeat of an earlier one (or none); its last heartbeat goes to {@code beat}. */
    private static ValidationReport attempt(MigrationPlan plan, StreamSpec spec, ValidationBeat before, long rowsPerSec,
            AtomicReference<ValidationBeat> beat, int stopAfterRanges) {
        TestActivityEnvironment env = TestActivityEnvironment.newInstance();
        try {
            if (before != null) {
                env.setHeartbeatDetails(before);
            }
            env.setActivityHeartbeatListener(ValidationBeat.class, b -> {
                beat.set(b);
                if (stopAfterRanges > 0 && b.blockRangesRead() >= stopAfterRanges) {
                    env.requestCancelActivity(); // the next heartbeat ends the attempt, as a dead worker's would end
                }
            });
            return activities(env, rowsPerSec).validate(plan, spec, List.of(ITEMS), false);
        } finally {
            env.close();
        }
    }

    @Test
    void aStoppedValidationResumesFromItsLastSavedBlockRanges() throws Exception {
        String db = "live_resume";
        StreamSpec spec = stream(db, 150_000);
        MigrationPlan plan = plan(db, true);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            // the whole pass, uninterrupted: how many block ranges there are
            ValidationReport whole = attempt(plan, spec, null, 0, new AtomicReference<>(), 0);
            assertTrue(whole.passed(), whole.toString());
            assertEquals(0L, whole.blockRangesResumed());
            long ranges = whole.blockRangesRead();
            assertTrue(ranges >= 20, "block ranges of both sides: " + ranges);

            // paced to about 5 s a side, stopped once a third of the ranges is read
            AtomicReference<ValidationBeat> first = new AtomicReference<>();
            assertThrows(RuntimeException.class, () -> attempt(plan, spec, null, 30_000, first, (int) (ranges / 3)));
            assertNotNull(first.get().run());
            AtomicReference<ValidationBeat> second = new AtomicReference<>();
            ValidationReport resumed = attempt(plan, spec, first.get(), 0, second, 0);
            assertTrue(resumed.passed(), resumed.toString());
            assertEquals(first.get().run(), second.get().run());
            assertEquals(first.get().markOffset(), second.get().markOffset(), "the resumed attempt keeps the first one's mark");
            long skipped = resumed.blockRangesResumed();
            assertTrue(skipped > 0, "nothing resumed: " + resumed);
            // the ranges of the plan the first attempt recorded (a fresh run samples other chunks, and a side read by key
            // has as many ranges as runs of them)
            assertEquals(first.get().rangesPlanned(), second.get().rangesPlanned(), "the resumed attempt keeps the first one's plan");
            assertEquals(second.get().rangesPlanned() - skipped, resumed.blockRangesRead(), "the resumed attempt reads only the rest: " + resumed);
            try (Connection c = Pg.connect(spec.to(), "it")) {
                assertEquals("0", Pg.one(c, "SELECT count(*) FROM " + Sql.table(ChangeApplier.applySchema(spec), StoredProgress.TABLE)),
                        "a finished validation leaves no progress behind");
            }
        } finally {
            PipelineStack.capture().teardown(spec);
            PipelineStack.exec(spec.to(), "DROP SCHEMA IF EXISTS dbmigrate_" + spec.migrationId() + " CASCADE");
        }
        PipelineStack.assertNoLeftovers(db);
    }

    @Test
    void aPlantedDifferenceIsFoundByKindWithItsKeyHashedInHistoryAndRealInTheReport() throws Exception {
        String db = "live_planted";
        StreamSpec spec = stream(db, 20_000);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            PipelineStack.exec(spec.to(), "DELETE FROM items WHERE id = 7", "UPDATE items SET qty = -1 WHERE id = 9",
                    "INSERT INTO items VALUES (1000001, 'planted', 1)");
            ValidationReport redacted = attempt(plan(db, true), spec, null, 0, new AtomicReference<>(), 0);
            assertFalse(redacted.passed(), redacted.toString());
            TableValidation t = redacted.tables().get(0);
            assertEquals(1L, t.missingRows(), t.toString());
            assertEquals(1L, t.extraRows(), t.toString());
            assertEquals(1L, t.differentRows(), t.toString());
            // the same name an apply error on that row would carry
            assertTrue(t.mismatchedChunks().contains("missing " + ApplyDataException.keyRef("public.items", "(id=7)")), t.toString());
            assertTrue(t.mismatchedChunks().contains("different " + ApplyDataException.keyRef("public.items", "(id=9)")), t.toString());
            assertTrue(t.mismatchedChunks().contains("extra " + ApplyDataException.keyRef("public.items", "(id=1000001)")), t.toString());
            assertFalse(redacted.toString().contains("1000001"), "no key in what reaches history: " + redacted);
            Path json = Path.of(redacted.reportPath());
            assertTrue(json.startsWith(REPORTS.toAbsolutePath()), json.toString());
            String report = Files.readString(json);
            assertTrue(report.contains("\"1000001\"") && report.contains("\"MISSING\""), report);
            Path html = json.resolveSibling(json.getFileName().toString().replace(".json", ".html"));
            assertTrue(Files.readString(html).contains("1000001"), "the HTML page lists the real key");

            ValidationReport plain = attempt(plan(db, false), spec, null, 0, new AtomicReference<>(), 0);
            assertTrue(plain.tables().get(0).mismatchedChunks().contains("missing key (7)"), plain.toString());
        } finally {
            PipelineStack.capture().teardown(spec);
            PipelineStack.exec(spec.to(), "DROP SCHEMA IF EXISTS dbmigrate_" + spec.migrationId() + " CASCADE");
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
