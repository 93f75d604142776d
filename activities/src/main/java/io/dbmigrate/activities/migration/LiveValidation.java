package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.validation.ValidationReport;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration's live validation (before approval, writes running) on the validation engine in live mode: a
 * difference counts only if it persists after the target has applied what the source held when the row was read
 * again. Resumable: its progress is saved on the target as block ranges and chunks finish ({@link StoredProgress}),
 * and an attempt given the heartbeat of a dead one goes on from there, with that attempt's validation mark.
 */
public final class LiveValidation {
    private static final Logger log = LoggerFactory.getLogger(LiveValidation.class);
    /** Beats while a step reports nothing (a keyless table's pass, the chunk plan); the engine beats every second. */
    private static final long KEEP_ALIVE_SECONDS = 5;

    private LiveValidation() {}

    /** What the activity gives: where it stands, how it beats, where the report goes. */
    public record Attempt(String run, ValidationBeat before, Consumer<ValidationBeat> heartbeat, Path reportDir,
            String reportName) {}

    public static io.dbmigrate.workflows.model.ValidationReport run(MigrationPlan plan, StreamSpec spec, List<TableRef> tables,
            ValidationEngine.Options options, String kafkaBootstrap, ValidationEngine.CatchUp catchUp, Attempt a)
            throws SQLException, InterruptedException, IOException {
        String schema = ChangeApplier.applySchema(spec);
        StoredProgress progress;
        FrozenValidation.Start mark;
        if (a.before() == null) {
            progress = StoredProgress.fresh(spec.to(), schema, a.run());
            // the applied offset before this pass reads any row: what the frozen pass starts from if this one passes
            mark = FrozenValidation.beginLive(spec, kafkaBootstrap);
        } else {
            // a retry: the rows read before the worker died count, so the mark taken before them stays
            progress = StoredProgress.resume(spec.to(), schema, a.run());
            mark = a.before().mark();
        }
        long resumed = progress.state().blockRangesDone();
        int[] tablesDone = {(int) tables.stream().filter(t -> progress.report(t.toString()).isPresent()).count()};
        if (a.before() != null) {
            log.info("{}: live validation resumed: {} tables and {} block ranges finished by earlier attempts", spec.streamId(),
                    tablesDone[0], resumed);
        }
        ValidationReport r;
        long read;
        try (ValidationEngine engine = new ValidationEngine(plan.source(), plan.target(), options, progress, catchUp,
                m -> log.info("{}: {}", spec.streamId(), m))) {
            Runnable beat = () -> {
                try {
                    progress.saveIfDue();
                } catch (SQLException e) {
                    // a retry would go on from the last save: the validation itself need not stop
                    log.warn("{}: validation progress not saved: {}", spec.streamId(), e.toString());
                }
                a.heartbeat().accept(ValidationBeat.of(a.run(), mark, tablesDone[0], tables.size(), resumed,
                        engine.counters().slicesScanned(), progress.state().rangesPlanned()));
            };
            beat.run(); // the mark reaches the server before any row is read
            engine.heartbeat(beat);
            ScheduledExecutorService keepAlive = Executors.newSingleThreadScheduledExecutor(Parallel.daemon("dbmigrate-validate-beat"));
            keepAlive.scheduleAtFixedRate(() -> {
                try {
                    beat.run();
                } catch (RuntimeException e) {
                    // cancelled: the engine's own beat throws it into the validation
                }
            }, KEEP_ALIVE_SECONDS, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
            long t0 = System.nanoTime();
            List<TableReport> reports = new ArrayList<>();
            try {
                for (TableRef t : tables) {
                    // a failure (a lost connection) fails the attempt, and the retry resumes here
                    reports.add(engine.table(t));
                    tablesDone[0] = reports.size();
                    progress.save();
                }
            } finally {
                keepAlive.shutdownNow();
            }
            read = engine.counters().slicesScanned();
            r = ValidationReport.of(plan.source().describe(), plan.target().describe(), (System.nanoTime() - t0) / 1e9, reports);
        }
        Path file = MigrationValidation.writeReport(r, a.reportDir(), a.reportName());
        io.dbmigrate.workflows.model.ValidationReport out = io.dbmigrate.workflows.model.ValidationReport.of(false,
                MigrationValidation.toWorkflow(plan.source(), tables, r, plan.redactsValues())).withReportPath(file.toString())
                .withBlockRanges(read, resumed);
        log.info("{}: live validation {}, report {}", spec.streamId(), out.passed() ? "passed" : "found differences", file);
        if (out.passed() && mark != null) {
            FrozenValidation.livePassed(spec, mark, tables);
        }
        StoredProgress.forget(spec.to(), schema, a.run());
        return out;
    }
}
