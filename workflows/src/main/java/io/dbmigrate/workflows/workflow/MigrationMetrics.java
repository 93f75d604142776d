package io.dbmigrate.workflows.workflow;

import com.uber.m3.tally.Scope;
import io.dbmigrate.workflows.model.CutoverReport;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import io.dbmigrate.workflows.model.MigrationStatus.State;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.workflow.Workflow;
import java.util.Map;

/**
 * What the workflow itself knows and Prometheus should see: the phase and when it began, the plan's thresholds the
 * alerts compare against, validation mismatches, the write pause, rollbacks and an incomplete rollback. Reported
 * through {@link Workflow#getMetricsScope()}, which stays silent while a history is replayed, so a recovering worker
 * does not count a rollback twice. The names are the ones {@code deploy/monitoring} queries (docs/monitoring.md);
 * every gauge carries {@code migration_id}.
 */
final class MigrationMetrics {
    static final String PHASE = "dbmigrate_migration_phase";
    static final String PHASE_STARTED = "dbmigrate_migration_phase_started_timestamp_seconds";
    static final String MAX_LAG_SECONDS = "dbmigrate_plan_max_lag_seconds";
    static final String MAX_LAG_BYTES = "dbmigrate_plan_max_lag_bytes";
    static final String MAX_WRITE_PAUSE = "dbmigrate_plan_max_write_pause_seconds";
    static final String MISMATCHED_TABLES = "dbmigrate_validation_mismatched_tables";
    static final String VALIDATION_CHUNKS = "dbmigrate_validation_chunks";
    static final String WRITE_PAUSE = "dbmigrate_cutover_write_pause_seconds";
    static final String ROLLBACKS = "dbmigrate_migration_rollbacks";
    static final String FAILED = "dbmigrate_migration_failed";

    private MigrationMetrics() {}

    private static Scope scope(MigrationPlan plan) {
        return Workflow.getMetricsScope().tagged(Map.of("migration_id", plan.migrationId()));
    }

    /** The plan's thresholds, once at the start: the alert rules compare the streams' figures with them. */
    static void plan(MigrationPlan plan) {
        Scope s = scope(plan);
        s.gauge(MAX_LAG_SECONDS).update(plan.thresholdsOrDefault().maxLagSeconds());
        s.gauge(MAX_LAG_BYTES).update(plan.thresholdsOrDefault().maxLagBytes());
        s.gauge(MAX_WRITE_PAUSE).update(plan.cutoverOrDefault().maxWritePauseSeconds());
        s.gauge(FAILED).update(0);
    }

    /** One series per phase: 1 for the current one, 0 for the one just left. */
    static void phase(MigrationPlan plan, Phase left, Phase entered, long atMillis) {
        Scope s = scope(plan);
        if (left != null && left != entered) {
            s.tagged(Map.of("phase", left.label())).gauge(PHASE).update(0);
        }
        s.tagged(Map.of("phase", entered.label())).gauge(PHASE).update(1);
        s.gauge(PHASE_STARTED).update(atMillis / 1000.0);
    }

    static void validation(MigrationPlan plan, ValidationReport r) {
        if (r == null) {
            return;
        }
        Scope s = scope(plan);
        s.gauge(MISMATCHED_TABLES).update(r.tables() == null ? 0 : r.tables().stream().filter(t -> !t.matches()).count());
        s.gauge(VALIDATION_CHUNKS).update(r.chunks());
    }

    static void cutover(MigrationPlan plan, CutoverReport r) {
        if (r != null) {
            scope(plan).gauge(WRITE_PAUSE).update(r.writePauseMs() / 1000.0);
        }
    }

    /** A rollback began; {@code FAILED} when it could not undo everything (dbmigrate's objects may be left behind). */
    static void rolledBack(MigrationPlan plan, State outcome) {
        Scope s = scope(plan);
        s.counter(ROLLBACKS).inc(1);
        s.gauge(FAILED).update(outcome == State.FAILED ? 1 : 0);
    }
}
