package io.dbmigrate.cli.migrate;

import io.dbmigrate.activities.migration.ValidationBeat;
import io.dbmigrate.workflows.model.ApplierProgress;
import io.dbmigrate.workflows.model.FallbackWindow;
import io.dbmigrate.workflows.model.MigrationStatus;
import io.dbmigrate.workflows.model.SnapshotCopyProgress;
import io.dbmigrate.workflows.model.TableValidation;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.common.converter.DataConverter;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Live progress of a migration: phase, snapshot rows and changes applied, lag, validation chunks.")
public final class Watch implements Callable<Integer> {
    @Mixin TemporalOptions temporal;
    @Spec CommandSpec spec;
    @Parameters(paramLabel = "ID") String id;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        WorkflowClient client = temporal.client();
        String wf = TemporalOptions.workflowId(id);
        String last = null;
        while (true) {
            MigrationStatus s;
            DescribeWorkflowExecutionResponse described;
            try {
                described = WorkerAnswers.describe(client, wf);
                s = WorkerAnswers.status(client, wf, WorkerAnswers.WAIT, described);
            } catch (WorkerAnswers.NoWorkerAnswer e) {
                // keep watching: a worker that comes back resumes the migration, and this line says what is missing
                String line = "[waiting for a worker] " + e.getMessage();
                if (!line.equals(last)) {
                    out.println(line);
                    out.flush();
                    last = line;
                }
                Thread.sleep(1000);
                continue;
            }
            DataConverter dc = client.getOptions().getDataConverter();
            String line = render(s, applierProgress(described, dc).orElse(s.applier()))
                    + copyProgress(described, dc).map(Watch::render).orElse("")
                    + validationProgress(described, dc).map(Watch::render).orElse("");
            if (!line.equals(last)) {
                out.println(line);
                out.flush();
                last = line;
            }
            if (s.state() == MigrationStatus.State.COMPLETED || s.state() == MigrationStatus.State.ROLLED_BACK
                    || s.state() == MigrationStatus.State.FAILED) {
                if (s.error() != null) {
                    out.println("error: " + s.error());
                }
                if (!s.compensations().isEmpty()) {
                    out.println("compensations run: " + String.join(" <- ", s.compensations()));
                }
                return s.state() == MigrationStatus.State.COMPLETED ? 0 : 1;
            }
            Thread.sleep(1000);
        }
    }

    public static String render(MigrationStatus s, ApplierProgress a) {
        StringBuilder b = new StringBuilder(String.format("[%-8s] %-17s", s.phase().label(), s.state()));
        if (a != null) {
            b.append(String.format(" snapshot %s rows  changes %,d  txns %,d", bar(a.snapshotRows()), a.changes(), a.transactions()));
            if (a.retrying() != null) {
                b.append("  RETRYING: ").append(a.retrying());
            }
        }
        if (s.snapshotCopy() != null && s.phase() == MigrationStatus.Phase.SNAPSHOT) {
            b.append(String.format("  copied %,d rows in %.1f s", s.snapshotCopy().rows(), s.snapshotCopy().millis() / 1000.0));
        }
        if (s.lag() != null) {
            b.append(String.format("  lag %,d B / %.1f s", s.lag().bytes(), s.lag().secondsSinceLastApplied()));
        }
        if (s.validationRequestedBy() != null) {
            b.append("  validation requested by ").append(s.validationRequestedBy()).append(" running");
        }
        if (s.validation() != null) {
            int bad = s.validation().tables().stream().mapToInt(t -> t.mismatchedChunks().size()).sum();
            b.append(String.format("  validation %s %d/%d chunks ok%s", s.validation().frozen() ? "(frozen)" : "(live)",
                    s.validation().chunks() - bad, s.validation().chunks(), s.validation().passed() ? "" : " MISMATCH"));
            for (TableValidation t : s.validation().tables()) {
                if (!t.matches()) {
                    b.append("\n    ").append(t.table()).append(": ").append(t.sourceRows()).append(" vs ").append(t.targetRows())
                            .append(" rows, ");
                    if (t.missingRows() != null) {
                        b.append(String.format("%,d missing, %,d extra, %,d different: ", t.missingRows(), t.extraRows(),
                                t.differentRows())).append(t.mismatchedChunks());
                    } else {
                        b.append("chunks ").append(t.mismatchedChunks());
                    }
                }
            }
            if (s.validation().reportPath() != null) {
                b.append("\n    report ").append(s.validation().reportPath()).append(" (and .html, on the worker)");
            }
        }
        if (s.cutover() != null) {
            b.append(String.format("  cutover%s: writes paused %d ms", s.cutover().strategy() == null ? ""
                    : " (" + s.cutover().strategy() + ")", s.cutover().writePauseMs()));
            if (s.cutover().clientMaxWaitMs() != null) {
                b.append(String.format(", longest client wait %d ms", s.cutover().clientMaxWaitMs()));
            }
        }
        if (s.fallback() != null) {
            b.append("  fallback window ").append(s.fallback().outcome());
            if (FallbackWindow.OPEN.equals(s.fallback().outcome())) {
                b.append(" until ").append(java.time.Instant.ofEpochMilli(s.fallback().closesAtMs()))
                        .append(" (./dbmigrate finalize|rollback ").append(s.migrationId()).append(")");
            } else if (s.fallback().decidedBy() != null) {
                b.append(" by ").append(s.fallback().decidedBy());
            }
            b.append(", reverse stream ").append(s.fallback().reverseStream());
            if (s.fallback().lastError() != null) {
                b.append("\n    last rollback attempt: ").append(s.fallback().lastError());
            }
        }
        if (s.sourceRetirement() != null) {
            b.append(s.sourceRetirement().readOnly() ? "  old source read-only" : "  old source NOT read-only (fence kept)");
            if (!s.sourceRetirement().sessionsLeft().isEmpty()) {
                b.append(", sessions left on it: ").append(s.sourceRetirement().sessionsLeft());
            }
        }
        return b.toString();
    }

    private static String bar(long rows) {
        int filled = rows <= 0 ? 0 : (int) Math.min(20, Math.log10(rows) * 3);
        return "[" + "#".repeat(filled) + ".".repeat(20 - filled) + "] " + String.format("%,d", rows);
    }

    /** The applier's latest heartbeat, from the workflow's pending activities (none once it is closed). */
    static Optional<ApplierProgress> applierProgress(DescribeWorkflowExecutionResponse d, DataConverter dc) {
        return heartbeat(d, "RunApplier", ApplierProgress.class, dc);
    }

    /** The initial copy's latest heartbeat: rows, bytes and ETA per table while CopySnapshot runs. */
    static Optional<SnapshotCopyProgress> copyProgress(DescribeWorkflowExecutionResponse d, DataConverter dc) {
        return heartbeat(d, "CopySnapshot", SnapshotCopyProgress.class, dc);
    }

    /**
     * The latest heartbeat details of the pending {@code activity}, as the server holds them; {@code dc}: the client's
     * converter, which decrypts heartbeats when the worker runs the payload codec. Empty when none, or when they are
     * of another shape (ValidateData inside the cutover heartbeats a line of text, not a {@link ValidationBeat}).
     */
    public static <T> Optional<T> heartbeat(DescribeWorkflowExecutionResponse d, String activity, Class<T> type,
            DataConverter dc) {
        for (PendingActivityInfo p : d.getPendingActivitiesList()) {
            if (p.getActivityType().getName().equals(activity) && p.hasHeartbeatDetails()) {
                try {
                    return Optional.ofNullable(dc.fromPayloads(0, Optional.of(p.getHeartbeatDetails()), type, type));
                } catch (io.temporal.common.converter.DataConverterException otherShape) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /** The running validation's latest heartbeat (ValidateData: live, on request, or inside the cutover). */
    static Optional<ValidationBeat> validationProgress(DescribeWorkflowExecutionResponse d, DataConverter dc) {
        return heartbeat(d, "ValidateData", ValidationBeat.class, dc);
    }

    /** One line for a validation that runs now. */
    static String render(ValidationBeat v) {
        return String.format("%n  validating %d/%d tables, %,d ranges read%s", v.tablesDone(), v.tables(), v.blockRangesRead(),
                v.blockRangesResumed() > 0 ? String.format(" (and %,d before a restart)", v.blockRangesResumed()) : "");
    }

    /** One line for the copy, and one per table still copying. */
    static String render(SnapshotCopyProgress p) {
        StringBuilder b = new StringBuilder(String.format("  copy %d/%d units  %,d of ~%,d rows  %,.1f MB  %,.0f rows/s  ETA %s",
                p.unitsDone(), p.units(), p.rows(), p.estimatedRows(), p.bytes() / 1e6, p.rowsPerSec(),
                p.etaSeconds() == null ? "?" : p.etaSeconds() + " s"));
        for (SnapshotCopyProgress.Table t : p.tables()) {
            if (t.unitsDone() < t.units()) {
                b.append(String.format("%n    %s: %d/%d units, %,d of ~%,d rows", t.table(), t.unitsDone(), t.units(),
                        t.rows(), t.estimatedRows()));
            }
        }
        return b.toString();
    }
}
