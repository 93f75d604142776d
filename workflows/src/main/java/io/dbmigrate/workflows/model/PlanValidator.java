package io.dbmigrate.workflows.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Checks a plan without touching anything; every problem names its field. Deterministic: safe in workflow code. */
public final class PlanValidator {
    public static final Set<String> PHASES = Set.of("preflight", "prepare", "snapshot", "validation", "cutover");

    private PlanValidator() {}

    public static List<String> problems(MigrationPlan p) {
        List<String> out = new ArrayList<>();
        if (p == null) {
            return List.of("the plan is empty");
        }
        p.unknownFields().keySet().forEach(k -> out.add("unknown field '" + k + "'"));
        if (p.migrationId() == null) {
            out.add("missing field 'migrationId'");
        } else {
            try {
                MigrationId.require(p.migrationId());
            } catch (IllegalArgumentException e) {
                out.add("field 'migrationId': " + e.getMessage());
            }
        }
        endpoint("source", p.source(), out);
        endpoint("target", p.target(), out);
        if (p.approval() == null) {
            out.add("missing field 'approval' (manual or auto)");
        } else if (!p.approval().equals("manual") && !p.approval().equals("auto")) {
            out.add("field 'approval' must be manual or auto, got '" + p.approval() + "'");
        }
        if (p.schemas() != null) {
            for (int i = 0; i < p.schemas().size(); i++) {
                if (p.schemas().get(i) == null || p.schemas().get(i).isEmpty()) {
                    out.add("field 'schemas[" + i + "]' is empty");
                }
            }
        }
        if (p.tables() != null) {
            for (int i = 0; i < p.tables().size(); i++) {
                String t = p.tables().get(i);
                if (t == null || !t.contains(".")) {
                    out.add("field 'tables[" + i + "]' must be schema.table, got '" + t + "'");
                }
            }
        }
        MigrationPlan.Thresholds t = p.thresholds();
        if (t != null) {
            if (t.maxLagSeconds() != null && t.maxLagSeconds() <= 0) {
                out.add("field 'thresholds.maxLagSeconds' must be positive");
            }
            if (t.maxLagBytes() != null && t.maxLagBytes() <= 0) {
                out.add("field 'thresholds.maxLagBytes' must be positive");
            }
            if (t.validationChunkRows() != null && (t.validationChunkRows() < 100 || t.validationChunkRows() > 10_000_000)) {
                out.add("field 'thresholds.validationChunkRows' must be 100-10000000");
            }
        }
        if (p.snapshot() != null && !p.snapshot().equals(MigrationPlan.SNAPSHOT_COPY)
                && !p.snapshot().equals(MigrationPlan.SNAPSHOT_DEBEZIUM)) {
            out.add("field 'snapshot' must be copy or debezium, got '" + p.snapshot() + "'");
        }
        if (p.limits() != null && p.limits().maxRecordBytes() != null) {
            long b = p.limits().maxRecordBytes();
            if (b < MigrationPlan.Limits.MIN_MAX_RECORD_BYTES || b > MigrationPlan.Limits.MAX_MAX_RECORD_BYTES) {
                out.add("field 'limits.maxRecordBytes' must be " + MigrationPlan.Limits.MIN_MAX_RECORD_BYTES + "-"
                        + MigrationPlan.Limits.MAX_MAX_RECORD_BYTES + " (64 KiB-1 GiB), got " + b);
            }
        }
        MigrationPlan.CutoverOptions c = p.cutover();
        if (c != null) {
            if (c.maxWritePauseSeconds() != null && (c.maxWritePauseSeconds() < 1 || c.maxWritePauseSeconds() > 600)) {
                out.add("field 'cutover.maxWritePauseSeconds' must be 1-600");
            }
            if (c.lockTimeoutSeconds() != null && (c.lockTimeoutSeconds() < 1 || c.lockTimeoutSeconds() > 60)) {
                out.add("field 'cutover.lockTimeoutSeconds' must be 1-60");
            }
            if (c.strategy() != null && !c.strategy().equals(MigrationPlan.CutoverOptions.FENCE) && !c.viaPgBouncer()) {
                out.add("field 'cutover.strategy' must be fence or pgbouncer, got '" + c.strategy() + "'");
            }
            if (c.viaPgBouncer()) {
                MigrationPlan.PgBouncerOptions b = c.pgbouncer();
                if (b == null || b.admin() == null || blank(b.database()) || blank(b.databasesFile())) {
                    out.add("cutover.strategy pgbouncer needs 'cutover.pgbouncer' with 'admin', 'database' and 'databasesFile'");
                }
            } else if (c.pgbouncer() != null) {
                out.add("field 'cutover.pgbouncer' is set but 'cutover.strategy' is not pgbouncer");
            }
            if (c.fallbackWindowMinutes() != null && (c.fallbackWindowMinutes() < 0 || c.fallbackWindowMinutes() > 43_200)) {
                out.add("field 'cutover.fallbackWindowMinutes' must be 0-43200 (30 days)");
            }
        }
        if (p.faultInjection() != null && !PHASES.contains(p.faultInjection())) {
            out.add("field 'faultInjection' must be one of " + PHASES + ", got '" + p.faultInjection() + "'");
        }
        return out;
    }

    private static void endpoint(String name, Endpoint e, List<String> out) {
        if (e == null) {
            out.add("missing field '" + name + "'");
            return;
        }
        if (e.host() == null || e.host().isBlank()) {
            out.add("missing field '" + name + ".host'");
        }
        if (e.port() < 1 || e.port() > 65535) {
            out.add("field '" + name + ".port' must be 1-65535");
        }
        if (e.database() == null || e.database().isBlank()) {
            out.add("missing field '" + name + ".database'");
        }
        if (e.user() == null || e.user().isBlank()) {
            out.add("missing field '" + name + ".user'");
        }
        if (e.passwordRef() == null) {
            out.add("missing field '" + name + ".passwordRef' (env:NAME or file:PATH)");
        } else if (!e.passwordRef().startsWith("env:") && !e.passwordRef().startsWith("file:")) {
            out.add("field '" + name + ".passwordRef' must be env:NAME or file:PATH (never the password itself)");
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
