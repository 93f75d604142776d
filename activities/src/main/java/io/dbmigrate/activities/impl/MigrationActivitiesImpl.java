package io.dbmigrate.activities.impl;

import io.dbmigrate.activities.cutover.PgBouncer;
import io.dbmigrate.activities.cutover.Traffic;
import io.dbmigrate.activities.migration.Fence;
import io.dbmigrate.activities.migration.FrozenValidation;
import io.dbmigrate.activities.migration.Preflight;
import io.dbmigrate.activities.migration.Sequences;
import io.dbmigrate.activities.migration.PostData;
import io.dbmigrate.activities.migration.TargetSchema;
import io.dbmigrate.activities.migration.LiveValidation;
import io.dbmigrate.activities.migration.MigrationValidation;
import io.dbmigrate.activities.migration.ValidationBeat;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.activities.MigrationActivities;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.MigrationId;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.WorkflowClient;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.UnaryOperator;
import java.util.List;

public final class MigrationActivitiesImpl implements MigrationActivities {
    private final WorkflowClient client;
    /** The change topics' Kafka: the frozen validation reads what changed since the live pass; null reads tables whole. */
    private final String kafkaBootstrap;

    /** Where the live validation writes its reports (JSON and HTML): the worker's DBMIGRATE_REPORT_DIR. */
    private final Path reportDir;
    /** The engine's options beyond the plan's chunk size (tests slow it down and cut finer block ranges). */
    private final UnaryOperator<ValidationEngine.Options> validationTuning;

    public MigrationActivitiesImpl(WorkflowClient client, String kafkaBootstrap) {
        this(client, kafkaBootstrap, Path.of("reports"), UnaryOperator.identity());
    }

    public MigrationActivitiesImpl(WorkflowClient client, String kafkaBootstrap, Path reportDir,
            UnaryOperator<ValidationEngine.Options> validationTuning) {
        this.client = client;
        this.kafkaBootstrap = kafkaBootstrap;
        this.reportDir = reportDir;
        this.validationTuning = validationTuning;
    }

    @Override
    public PreflightReport preflight(MigrationPlan plan) {
        try {
            return Preflight.run(plan);
        } catch (Preflight.Refused e) {
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), PREFLIGHT_FAILED);
        }
    }

    @Override
    public List<DbObject> prepareTarget(MigrationPlan plan, List<TableRef> tables) {
        return schemaStep(() -> TargetSchema.prepare(plan, tables));
    }

    @Override
    public List<DbObject> prepareTargetTables(MigrationPlan plan, List<TableRef> tables) {
        return schemaStep(() -> TargetSchema.prepare(plan, tables, false));
    }

    @Override
    public List<DbObject> finishTargetSchema(MigrationPlan plan, List<DbObject> created) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        return schemaStep(() -> PostData.finish(plan, created, POST_DATA_PARALLELISM, () -> ctx.heartbeat(null)));
    }

    /** Index builds in parallel: one per table family at a time, four families at once. */
    static final int POST_DATA_PARALLELISM = 4;

    /** A definition the target refuses fails for good (TargetSchemaFailed); a lost connection or a deadlock is retried. */
    private static List<DbObject> schemaStep(java.util.concurrent.Callable<List<DbObject>> step) {
        try {
            return step.call();
        } catch (TargetSchema.Refused e) {
            if (e.transientFailure()) {
                throw Activity.wrap(e);
            }
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), TARGET_SCHEMA_FAILED);
        } catch (Exception e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void dropCreatedTargetTables(MigrationPlan plan, List<DbObject> created) {
        try {
            TargetSchema.dropCreated(plan, created);
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void awaitCatchUp(StreamSpec spec, MigrationPlan.Thresholds t) {
        everyLag(spec, 500, lag -> lag.appliedTransactions() > 0 && lag.bytes() <= t.maxLagBytes()
                && lag.secondsSinceLastApplied() >= 0 && lag.secondsSinceLastApplied() <= t.maxLagSeconds());
    }

    /** Reads the stream's lag every {@code periodMs}, heartbeating it meanwhile, until {@code done} accepts a reading. */
    private static void everyLag(StreamSpec spec, long periodMs, java.util.function.Predicate<StreamLag> done) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        try {
            while (true) {
                StreamLag lag = StreamMonitor.lag(spec);
                if (done.test(lag)) {
                    return;
                }
                for (long waited = 0; waited < periodMs; waited += 500) {
                    ctx.heartbeat(lag); // throws once the workflow cancels this activity
                    Thread.sleep(Math.min(500, periodMs));
                }
            }
        } catch (SQLException e) {
            throw Activity.wrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(e);
        }
    }

    @Override
    public ValidationReport validate(MigrationPlan plan, StreamSpec spec, List<TableRef> tables, boolean frozen) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        int chunkRows = plan.thresholdsOrDefault().validationChunkRows();
        try {
            if (frozen) {
                // inside the write freeze, right after the cutover's drain: only what the stream touched since the
                // last live pass that passed, every other table whole; up to eight tables at a time, because every
                // millisecond here is a millisecond of write pause
                return ValidationReport.of(true, frozenPass(plan, spec, tables, chunkRows, ctx));
            }
            ActivityInfo info = ctx.getInfo();
            // one run per activity call, named by its first attempt; the retries (given its heartbeat) resume it
            ValidationBeat before = ctx.getHeartbeatDetails(ValidationBeat.class).orElse(null);
            String run = before != null ? before.run() : info.getWorkflowId() + "/" + info.getRunId() + "/" + info.getActivityId();
            String reportName = plan.migrationId() + "-validation-"
                    + TIMESTAMP.format(Instant.ofEpochMilli(info.getScheduledTimestamp())) + "-attempt" + info.getAttempt();
            return LiveValidation.run(plan, spec, tables, validationTuning.apply(MigrationValidation.options(chunkRows)),
                    kafkaBootstrap, catchUp(spec, s -> {}), new LiveValidation.Attempt(run, before, ctx::heartbeat, reportDir, reportName));
        } catch (SQLException | java.io.IOException e) {
            throw Activity.wrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(e);
        }
    }

    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

    private List<TableValidation> frozenPass(MigrationPlan plan, StreamSpec spec, List<TableRef> tables, int chunkRows,
            ActivityExecutionContext ctx) throws SQLException {
        return FrozenValidation.run(plan.source(), plan.target(), spec, tables, chunkRows,
                kafkaBootstrap, Math.min(8, Math.max(2, tables.size())), ctx::heartbeat);
    }

    /**
     * The stream's drain, as the live validation uses it between its reads of the two sides; it beats through the
     * validation's own heartbeat (the details must stay the validation's).
     */
    /**
     * {@code beat}: called while the drain waits (up to 5 minutes). The live validation passes none, its heartbeat
     * details being its own and its keep-alive beating anyway; the re-check before the pause beats through it.
     */
    private static ValidationEngine.CatchUp catchUp(StreamSpec spec, java.util.function.Consumer<String> beat) {
        return () -> StreamMonitor.drain(spec, null, Duration.ofMinutes(5), beat);
    }

    @Override
    public ValidationReport recheckChanges(MigrationPlan plan, StreamSpec spec, List<TableRef> tables) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        try {
            return ValidationReport.of(false, FrozenValidation.recheckLive(plan.source(), plan.target(), spec, tables,
                    plan.thresholdsOrDefault().validationChunkRows(), kafkaBootstrap, catchUp(spec, ctx::heartbeat), ctx::heartbeat));
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void watchStream(StreamSpec spec, String workflowId) {
        MigrationWorkflow wf = client.newWorkflowStub(MigrationWorkflow.class, workflowId);
        everyLag(spec, 5000, lag -> {
            wf.lagReport(lag);
            return false; // until the workflow cancels it
        });
    }

    /** This activity's heartbeat, for steps that call back between their statements. */
    private static Runnable heartbeat() {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        return () -> ctx.heartbeat(null);
    }

    @Override
    public String fenceSource(MigrationPlan plan, List<TableRef> tables) {
        try {
            return Fence.set(plan, tables, heartbeat());
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState())) {
                throw ApplicationFailure.newFailure("could not fence the source within cutover.lockTimeoutSeconds: a long "
                        + "transaction holds a table (" + e.getMessage() + ")", "FenceLockTimeout");
            }
            throw Activity.wrap(e);
        }
    }

    @Override
    public void unfenceSource(MigrationPlan plan) {
        try {
            Fence.remove(plan);
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void holdSourceFence(MigrationPlan plan) {
        try {
            Fence.hold(plan);
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public io.dbmigrate.workflows.model.SourceRetirement retireSource(MigrationPlan plan) {
        try {
            Fence.Retired r = Fence.retire(plan);
            return new io.dbmigrate.workflows.model.SourceRetirement(r.readOnly(), r.sessionsEnded(), r.sessionsLeft(),
                    r.fenceRemoved());
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public String pauseTraffic(MigrationPlan plan) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        java.util.concurrent.ScheduledExecutorService beat = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        // PAUSE blocks until in-flight transactions end: keep the short heartbeat timeout honest meanwhile
        beat.scheduleAtFixedRate(() -> ctx.heartbeat("pausing"), 0, 1, java.util.concurrent.TimeUnit.SECONDS);
        try {
            return Traffic.pause(plan).toString();
        } catch (PgBouncer.PauseTimeoutException e) {
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), TRAFFIC_PAUSE_TIMEOUT);
        } catch (IllegalArgumentException e) {
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "IllegalArgumentException");
        } finally {
            beat.shutdownNow();
        }
    }

    @Override
    public boolean repointTraffic(MigrationPlan plan) {
        return Traffic.repoint(plan);
    }

    @Override
    public long resumeTraffic(MigrationPlan plan) {
        return Traffic.resume(plan);
    }

    @Override
    public List<String> syncSequences(MigrationPlan plan, List<TableRef> tables) {
        try {
            return Sequences.sync(plan, tables, heartbeat());
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void cleanupTarget(MigrationPlan plan) {
        try (Connection c = Pg.connect(plan.target(), "dbmigrate-cleanup"); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + Sql.ident(MigrationId.objectName(plan.migrationId())) + " CASCADE");
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void injectFault(String phase) {
        throw ApplicationFailure.newNonRetryableFailure("injected failure at the end of phase " + phase
                + " (plan.faultInjection): rehearsing the rollback", INJECTED_FAULT);
    }
}
