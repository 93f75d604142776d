package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.ApplyDataException;
import io.dbmigrate.activities.pipeline.TableMeta;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.validation.Difference;
import io.dbmigrate.activities.validation.ReportHtml;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.validation.ValidationReport;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The validation engine's report as the migration keeps it: per table, in the workflow's history, the counts of
 * differing rows by kind and the first {@link #HISTORY_KEYS} of them (keys hashed as the apply errors hash them when
 * the plan redacts values); in full, real keys included, in a report file on the worker (JSON and HTML).
 */
public final class MigrationValidation {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MigrationValidation.class);
    /** Differing rows named per table in history; the counts and the report file have them all (up to the engine's cap). */
    static final int HISTORY_KEYS = 20;

    private MigrationValidation() {}

    /** The engine's tables as the workflow records them, in the order of {@code tables}. */
    public static List<TableValidation> toWorkflow(Endpoint source, List<TableRef> tables, ValidationReport r, boolean redact)
            throws SQLException {
        Map<String, TableRef> byName = new HashMap<>();
        tables.forEach(t -> byName.put(t.toString(), t));
        List<TableValidation> out = new ArrayList<>();
        Connection src = null;
        try {
            for (TableReport t : r.tables()) {
                List<String> keyColumns = null;
                if (redact && !t.keyless() && !t.differences().isEmpty() && byName.containsKey(t.table())) {
                    src = src != null ? src : Pg.connect(source, "dbmigrate-validate");
                    keyColumns = TableMeta.load(src, byName.get(t.table())).primaryKey();
                }
                out.add(toWorkflow(t, redact, keyColumns));
            }
        } finally {
            if (src != null) {
                src.close();
            }
        }
        return out;
    }

    /** {@code keyColumns}: the primary key's columns, to hash a key as the apply errors do (with {@code redact}). */
    static TableValidation toWorkflow(TableReport t, boolean redact, List<String> keyColumns) {
        if (t.error() != null) {
            // counted as different: a table that could not be compared is no proof
            return new TableValidation(t.table(), t.sourceRows(), t.targetRows(), t.chunks(), List.of("error: " + t.error()),
                    null, null, 0L, 0L, 0L);
        }
        List<String> named = t.unsettled() != null ? List.of() : t.differences().stream().limit(HISTORY_KEYS)
                .map(d -> label(d.kind()) + " " + name(t, d, redact, keyColumns)).toList();
        return new TableValidation(t.table(), t.sourceRows(), t.targetRows(), t.chunks(), named, null, t.unsettled(),
                t.missing(), t.extra(), t.different());
    }

    private static String label(Difference.Kind k) {
        return switch (k) {
            case MISSING -> "missing";
            case EXTRA -> "extra";
            case DIFFERENT -> "different";
        };
    }

    /** A table without a key names a row by its hash, which shows no value; a key is hashed when values are redacted. */
    private static String name(TableReport t, Difference d, boolean redact, List<String> keyColumns) {
        if (t.keyless()) {
            return "row hash " + d.key().get(0) + (d.detail() == null ? "" : " (" + d.detail() + ")");
        }
        return keyName(t.table(), keyColumns, d.key(), redact);
    }

    /**
     * A differing row's key as history shows it: {@code key (42,eu)}, or with {@code redact} the stable hash the apply
     * errors use for the same row ({@code key#1a2b3c4d}; {@code grep} it in the worker's log or the report file).
     */
    static String keyName(String table, List<String> keyColumns, List<String> key, boolean redact) {
        if (!redact) {
            return "key (" + String.join(",", key) + ")";
        }
        if (keyColumns == null || keyColumns.size() != key.size()) {
            return "key#?";
        }
        Map<String, String> row = new HashMap<>();
        for (int i = 0; i < keyColumns.size(); i++) {
            row.put(keyColumns.get(i), key.get(i));
        }
        return ApplyDataException.keyRef(table, ApplyDataException.keyText(keyColumns, row));
    }

    /**
     * One table read whole by the engine, as the frozen validation (no {@code catchUp}) and the live re-check before
     * the pause use it: one session per side (they check several tables at once), nothing kept for a retry.
     */
    public static TableValidation whole(Endpoint source, Endpoint target, TableRef t, int chunkRows, ValidationEngine.CatchUp catchUp,
            boolean redact) throws SQLException {
        return whole(source, target, t, chunkRows, catchUp, redact, () -> {});
    }

    /** The same, {@code beat} called as the engine reads (an activity's heartbeat: a table read whole takes long). */
    public static TableValidation whole(Endpoint source, Endpoint target, TableRef t, int chunkRows, ValidationEngine.CatchUp catchUp,
            boolean redact, Runnable beat) throws SQLException {
        try (ValidationEngine e = new ValidationEngine(source, target, options(chunkRows).withParallel(1),
                io.dbmigrate.activities.validation.Progress.none(), catchUp, m -> log.info("{}", m))) {
            e.heartbeat(beat);
            TableReport r = e.table(t);
            return toWorkflow(source, List.of(t), ValidationReport.of(source.describe(), target.describe(), r.seconds(), List.of(r)),
                    redact).get(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted", "57014", e);
        }
    }

    /**
     * Writes {@code dir/name.json} and {@code dir/name.html} (each written aside and moved in place, so a reader never
     * sees half a file) and returns the JSON's absolute path.
     */
    public static Path writeReport(ValidationReport r, Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        Path json = dir.resolve(name + ".json").toAbsolutePath();
        write(json, r.toJson(true));
        write(dir.resolve(name + ".html"), ReportHtml.render(r));
        return json;
    }

    private static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The engine as the migration runs it: its defaults, the plan's chunk size. */
    public static ValidationEngine.Options options(int chunkRows) {
        return ValidationEngine.Options.defaults().withChunkRows(chunkRows);
    }
}
