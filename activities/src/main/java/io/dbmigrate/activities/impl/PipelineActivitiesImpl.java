package io.dbmigrate.activities.impl;

import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.pipeline.ApplierConflictException;
import io.dbmigrate.activities.pipeline.ApplyDataException;
import io.dbmigrate.activities.pipeline.ApplyPosition;
import io.dbmigrate.activities.pipeline.Lsn;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.pipeline.CaptureSetup;
import io.dbmigrate.activities.pipeline.CaptureWatchdog;
import io.dbmigrate.activities.pipeline.StreamMetrics;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.snapshot.CopyMetrics;
import io.dbmigrate.activities.snapshot.ExportedSnapshot;
import io.dbmigrate.activities.snapshot.SnapshotCopy;
import io.dbmigrate.workflows.activities.PipelineActivities;
import io.dbmigrate.workflows.model.SnapshotCopyReport;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import io.micrometer.core.instrument.MeterRegistry;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

public final class PipelineActivitiesImpl implements PipelineActivities {
    private static final Logger log = LoggerFactory.getLogger(PipelineActivitiesImpl.class);
    public static final String APPLY_DATA_ERROR = "ApplyDataError";
    /** The Debezium connector keeps failing the same way: a retry would only restart the same failures. */
    public static final String CAPTURE_FAILED = "CaptureFailed";

    private final String bootstrap;
    private final ConnectClient connect;
    private final MeterRegistry registry;
    private final CopyMetrics copyMetrics;

    public PipelineActivitiesImpl(String bootstrap, String connectUrl, MeterRegistry registry) {
        this.bootstrap = bootstrap;
        this.connect = new ConnectClient(connectUrl);
        this.registry = registry;
        this.copyMetrics = new CopyMetrics(registry);
        // the frozen validation reads the topic since the last live pass; its activity is built without Kafka
    }

    @Override
    public void prepareCapture(StreamSpec spec) {
        try {
            new CaptureSetup(bootstrap, connect).prepare(spec);
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public SnapshotCopyReport copySnapshot(StreamSpec spec) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        try {
            CaptureSetup setup = new CaptureSetup(bootstrap, connect);
            setup.preparePublication(spec);
            SnapshotCopyReport r = new SnapshotCopy(spec, SnapshotCopy.Options.defaults()).run(progress -> {
                copyMetrics.record(spec, progress);
                ctx.heartbeat(progress);
            }, SnapshotCopy.through(setup, spec));
            copyMetrics.record(spec, r);
            return r;
        } catch (io.temporal.client.ActivityCompletionException e) {
            // cancelled (the migration rolls back) or no longer wanted: no retry will claim the snapshot, and an open
            // exported snapshot holds the source's xmin
            ExportedSnapshot.discard(spec.slotName());
            throw e;
        } catch (SQLException e) {
            if ("42501".equals(e.getSQLState())) {
                // a privilege or a row-level security policy: retrying reads the same
                ExportedSnapshot.discard(spec.slotName());
                throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "CopyRefused");
            }
            throw Activity.wrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(e);
        }
    }

    @Override
    public void runApplier(StreamSpec spec) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        ChangeApplier applier = new ChangeApplier(spec, bootstrap, registry);
        StreamMetrics metrics = StreamMetrics.of(spec, registry);
        CaptureWatchdog watchdog = new CaptureWatchdog(connect, spec).onRestart(metrics::captureRestarted);
        try (AutoCloseable sampling = metrics.sampling()) {
            // heartbeat() throws once the workflow cancels this activity: that ends run() and closes everything
            applier.run(() -> true, progress -> {
                watchdog.check();
                ctx.heartbeat(progress);
            });
        } catch (ApplyDataException e) {
            metrics.failure(APPLY_DATA_ERROR);
            throw applyDataFailure(e, spec.redactsValues());
        } catch (CaptureWatchdog.CaptureFailed e) {
            metrics.failure(CAPTURE_FAILED);
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), CAPTURE_FAILED);
        } catch (ApplierConflictException e) {
            metrics.failure(e.kind().failureType());
            // retryable: a later attempt takes the stream's lock once the other writer is gone, then reads the position
            throw ApplicationFailure.newFailure(e.getMessage(), e.kind().failureType());
        } catch (SQLException e) {
            metrics.failure("DatabaseError");
            throw Activity.wrap(e);
        } catch (Exception e) {
            throw Activity.wrap(e); // only the sampling's close, which throws nothing
        }
    }

    /**
     * The failure that reaches the workflow and its history: without row values unless the plan allows them. The
     * operator finds the full text, under the same key hash, in the worker's log.
     */
    static ApplicationFailure applyDataFailure(ApplyDataException e, boolean redactValues) {
        if (redactValues) {
            log.warn("{} [in history as {}]", e.getMessage(), e.key(true));
        }
        // no cause attached: the SQLException's message is the unredacted one
        return ApplicationFailure.newNonRetryableFailure(e.message(redactValues), APPLY_DATA_ERROR, e.table(),
                e.key(redactValues), e.lsn(), e.offset());
    }

    @Override
    public StreamLag lag(StreamSpec spec) {
        try {
            return StreamMonitor.lag(spec);
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public String drain(StreamSpec spec, String lsn) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        try {
            return StreamMonitor.drain(spec, lsn, Duration.ofMinutes(5), ctx::heartbeat);
        } catch (SQLException | TimeoutException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public void prepareReverseCapture(StreamSpec reverse) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        try {
            new CaptureSetup(bootstrap, connect).prepare(reverse);
            // the connector creates the slot when its task starts: until then the target's changes are not retained
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            try (Connection c = Pg.connect(reverse.from(), "dbmigrate-capture-setup")) {
                while (!Pg.exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", reverse.slotName())) {
                    if (System.nanoTime() > deadline) {
                        throw new TimeoutException("the reverse stream's slot " + reverse.slotName() + " does not exist on "
                                + reverse.from().describe() + " 2 minutes after its connector was registered: check the "
                                + "connector " + reverse.connectorName() + " in Kafka Connect");
                    }
                    ctx.heartbeat("waiting for slot " + reverse.slotName());
                    Thread.sleep(100);
                }
            }
        } catch (SQLException | TimeoutException e) {
            throw Activity.wrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(e);
        }
    }

    @Override
    public String markSwitchPoint(StreamSpec reverse) {
        try (Connection target = Pg.connect(reverse.from(), "dbmigrate-switch");
                Connection source = Pg.connect(reverse.to(), "dbmigrate-switch")) {
            if (!Pg.exists(target, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", reverse.slotName())) {
                throw ApplicationFailure.newNonRetryableFailure("the reverse stream's slot " + reverse.slotName()
                        + " is missing on " + reverse.from().describe() + ": the switch would lose the fallback", "ReverseSlotMissing");
            }
            long switchLsn = Lsn.parse(Pg.one(target, "SELECT pg_current_wal_lsn()::text"));
            return Lsn.format(ApplyPosition.seed(source, ChangeApplier.applySchema(reverse), reverse.streamId(), switchLsn));
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }

    @Override
    public List<String> teardownCapture(StreamSpec spec) {
        try {
            return new CaptureSetup(bootstrap, connect).teardown(spec);
        } catch (SQLException e) {
            throw Activity.wrap(e);
        }
    }
}
