package io.dbmigrate.workflows.workflow;

import io.dbmigrate.workflows.activities.MigrationActivities;
import io.dbmigrate.workflows.activities.PipelineActivities;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Both activity interfaces in memory. Every activity start is appended to {@link #calls} under its activity type name
 * (ValidateData with its {@code frozen} flag); the applier's end by cancellation is appended as
 * {@code RunApplier(cancelled)}. Long-running activities heartbeat like the real ones and end when cancelled.
 */
final class FakeActivities implements MigrationActivities, PipelineActivities {
    static final List<TableRef> TABLES = List.of(new TableRef("public", "accounts"), new TableRef("public", "orders"));
    static final List<DbObject> CREATED = List.of(DbObject.of(DbObject.Kind.TYPE, "public", "status"), DbObject.table(new TableRef("public", "orders")));
    static final String APPLY_ERROR = "duplicate key value violates unique constraint \"orders_pkey\" (public.orders id=42)";
    /** Upper bound for every blocking loop, so a broken test cannot hang the build. */
    private static final long MAX_BLOCK_MS = 20_000;

    final List<String> calls = new CopyOnWriteArrayList<>();
    /** When each call in {@link #calls} started (wall clock ms), same index. */
    final List<Long> callTimes = new CopyOnWriteArrayList<>();
    final List<List<DbObject>> dropped = new CopyOnWriteArrayList<>();
    private final CountDownLatch applierStarted = new CountDownLatch(1);

    /** While false, AwaitCatchUp blocks (heartbeating) until set, cancelled or the workflow is gone. */
    volatile boolean caughtUp = true;
    /** When set, TeardownCapture fails (non-retryable). */
    volatile boolean teardownFails;
    /** When set, RunApplier fails with a non-retryable ApplyDataError (at the earliest {@link #applierFailAfterMs} in). */
    volatile boolean applierFails;
    volatile long applierFailAfterMs = 100;
    /** When set, the live (not frozen) validation finds one table a row short. */
    volatile boolean liveValidationDiffers;
    /** While set, the live validation blocks (heartbeating) until cleared or cancelled ("ValidateData(cancelled)"). */
    volatile boolean liveValidationHolds;
    /** When set, the live validation fails (non-retryable): the run broke, it found nothing. */
    volatile boolean liveValidationFails;
    /** While set, StreamLag blocks (heartbeating) until cleared: an approval whose lag read takes a while. */
    volatile boolean lagHolds;
    /** When set, DrainStream never ends by itself (heartbeats until cancelled). */
    volatile boolean drainHangs;
    /** Runs (on its own thread) right after FenceSourceWrites returned: a worker dying at that moment. */
    volatile Runnable afterFence;
    /** When set, WatchStream signals lagReport the way the real one does (every 5 s there; every 20 ms here). */
    volatile io.temporal.client.WorkflowClient client;
    /** What the StreamLag activity reports. */
    volatile StreamLag lag = lag(1024, 1.0);

    static StreamLag lag(long bytes, double seconds) {
        return new StreamLag("0/3000000", "0/2FFFC00", bytes, seconds, bytes, 1_000);
    }

    long count(String call) {
        return calls.stream().filter(call::equals).count();
    }

    /** What FinishTargetSchema was asked to finish. */
    final List<List<DbObject>> finishedFor = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The specs CopySnapshot was given (the stream must not ask Debezium for a snapshot of its own then). */
    final List<StreamSpec> copiedSpecs = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The call (as recorded) that fails, non-retryably, the first time it runs: a step of the cutover breaking. */
    volatile String failOnce;

    private void record(String call) {
        callTimes.add(System.currentTimeMillis());
        calls.add(call);
        if (call.equals(failOnce)) {
            failOnce = null;
            throw ApplicationFailure.newNonRetryableFailure(call + " broke (injected by the test)", "Broken");
        }
    }

    long timeOf(String call) {
        int i = calls.indexOf(call);
        return i < 0 ? -1 : callTimes.get(i);
    }

    /** Heartbeats until {@code done} is true; throws (after recording nothing) when cancelled or the workflow is gone. */
    private static void heartbeatUntil(java.util.function.BooleanSupplier done) {
        heartbeatUntil(done, MAX_BLOCK_MS);
    }

    private static void heartbeatUntil(java.util.function.BooleanSupplier done, long maxBlockMs) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        long until = System.currentTimeMillis() + maxBlockMs;
        while (!done.getAsBoolean()) {
            ctx.heartbeat(null);
            if (System.currentTimeMillis() > until) {
                throw ApplicationFailure.newNonRetryableFailure("fake blocked too long", "FakeTimeout");
            }
            sleep(20);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(e);
        }
    }

    // --- MigrationActivities

    @Override
    public PreflightReport preflight(MigrationPlan plan) {
        record("Preflight");
        return new PreflightReport(TABLES, "15.6", "16.2", 12_345, List.of());
    }

    @Override
    public List<DbObject> prepareTarget(MigrationPlan plan, List<TableRef> tables) {
        record("PrepareTargetSchema");
        return CREATED;
    }

    @Override
    public List<DbObject> prepareTargetTables(MigrationPlan plan, List<TableRef> tables) {
        record("PrepareTargetTables");
        return CREATED;
    }

    /** A view FinishTargetSchema creates: the rollback must drop it with the tables. */
    static final DbObject VIEW = DbObject.of(DbObject.Kind.VIEW, "public", "open_orders");

    @Override
    public List<DbObject> finishTargetSchema(MigrationPlan plan, List<DbObject> created) {
        record("FinishTargetSchema");
        finishedFor.add(List.copyOf(created));
        return List.of(VIEW);
    }

    @Override
    public void dropCreatedTargetTables(MigrationPlan plan, List<DbObject> created) {
        record("DropCreatedTargetTables");
        dropped.add(new ArrayList<>(created));
    }

    @Override
    public void awaitCatchUp(StreamSpec spec, MigrationPlan.Thresholds thresholds) {
        // catching up needs a running applier; waiting for it also makes the recorded order deterministic
        try {
            if (!applierStarted.await(5, TimeUnit.SECONDS)) {
                throw ApplicationFailure.newNonRetryableFailure("AwaitCatchUp ran without an applier", "FakeTimeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(e);
        }
        record("AwaitCatchUp");
        heartbeatUntil(() -> caughtUp);
    }

    @Override
    public ValidationReport validate(MigrationPlan plan, StreamSpec spec, List<TableRef> tables, boolean frozen) {
        record("ValidateData(frozen=" + frozen + ")");
        if (!frozen) {
            try {
                heartbeatUntil(() -> !liveValidationHolds);
            } catch (ActivityCompletionException e) {
                record("ValidateData(cancelled)");
                throw e;
            }
            if (liveValidationFails) {
                throw ApplicationFailure.newNonRetryableFailure("source: connection refused (injected by the test)", "Broken");
            }
        }
        List<TableValidation> result = new ArrayList<>();
        for (TableRef t : tables) {
            boolean short1 = liveValidationDiffers && !frozen && t.name().equals("orders");
            result.add(new TableValidation(t.toString(), 100, short1 ? 99 : 100, 1, short1 ? List.of("id 1-100") : List.of()));
        }
        return ValidationReport.of(frozen, result);
    }

    @Override
    public void watchStream(StreamSpec spec, String workflowId) {
        record("WatchStream");
        MigrationWorkflow wf = client == null ? null : client.newWorkflowStub(MigrationWorkflow.class, workflowId);
        heartbeatUntil(() -> { // ends by throwing when the workflow cancels it (approval decided)
            if (wf != null) {
                wf.lagReport(lag);
            }
            return false;
        });
    }

    @Override
    public String fenceSource(MigrationPlan plan, List<TableRef> tables) {
        record("FenceSourceWrites" + side(plan));
        Runnable after = afterFence;
        if (after != null) {
            afterFence = null;
            new Thread(after, "after-fence").start();
        }
        return "0/3000100";
    }

    @Override
    public void unfenceSource(MigrationPlan plan) {
        record("UnfenceSourceWrites" + side(plan));
    }

    @Override
    public void holdSourceFence(MigrationPlan plan) {
        record("HoldSourceFence" + side(plan));
    }

    /** When set, RetireSource reports a database it could not make read-only. */
    volatile boolean retireNotOwner;

    @Override
    public io.dbmigrate.workflows.model.SourceRetirement retireSource(MigrationPlan plan) {
        record("RetireSource");
        return retireNotOwner ? new io.dbmigrate.workflows.model.SourceRetirement(false, 0, List.of(), false)
                : new io.dbmigrate.workflows.model.SourceRetirement(true, 2, List.of(), true);
    }

    /** When set, the live re-check right before the pause finds one row that differs. */
    volatile boolean recheckDiffers;

    @Override
    public ValidationReport recheckChanges(MigrationPlan plan, StreamSpec spec, List<TableRef> tables) {
        record("RecheckChanges");
        return ValidationReport.of(false, List.of(new io.dbmigrate.workflows.model.TableValidation("public.orders", 12, 12, 0,
                recheckDiffers ? List.of("key (7)") : List.of(), 12)));
    }

    /** When set, PauseTraffic fails as PgBouncer's bounded PAUSE does when a client holds a transaction open. */
    volatile boolean pauseTimesOut;

    @Override
    public String pauseTraffic(MigrationPlan plan) {
        record("PauseTraffic" + side(plan));
        if (pauseTimesOut) {
            throw ApplicationFailure.newNonRetryableFailure("PAUSE shop did not complete within 5000 ms: a client holds a "
                    + "transaction open (10.0.0.7:51234); traffic was resumed", MigrationActivities.TRAFFIC_PAUSE_TIMEOUT);
        }
        return "drained";
    }

    @Override
    public boolean repointTraffic(MigrationPlan plan) {
        record("RepointTraffic" + (plan.target().host().startsWith("target") ? "(to target)" : "(to source)"));
        return true;
    }

    @Override
    public long resumeTraffic(MigrationPlan plan) {
        record("ResumeTraffic");
        return 42;
    }

    /** Calls made on the target through a reversed plan (the fallback's rollback) are marked "(target)". */
    private static String side(MigrationPlan plan) {
        return plan.source().host().startsWith("target") ? "(target)" : "";
    }

    @Override
    public List<String> syncSequences(MigrationPlan plan, List<TableRef> tables) {
        record("SyncSequences" + side(plan));
        return List.of("public.orders_id_seq -> 1043");
    }

    @Override
    public void cleanupTarget(MigrationPlan plan) {
        record("CleanupTarget");
    }

    @Override
    public void injectFault(String phase) {
        record("InjectFault");
        throw ApplicationFailure.newNonRetryableFailure("injected failure at the end of phase " + phase
                + " (plan.faultInjection): rehearsing the rollback", MigrationActivities.INJECTED_FAULT);
    }

    // --- PipelineActivities

    @Override
    public io.dbmigrate.workflows.model.SnapshotCopyReport copySnapshot(StreamSpec spec) {
        record("CopySnapshot");
        copiedSpecs.add(spec);
        return new io.dbmigrate.workflows.model.SnapshotCopyReport("0/1000", 3, 300, 5, 3, 3, null, List.of());
    }

    @Override
    public void prepareCapture(StreamSpec spec) {
        record("PrepareCapture");
    }

    @Override
    public void runApplier(StreamSpec spec) {
        boolean reverse = spec.direction() == StreamSpec.Direction.REVERSE;
        record(reverse ? "RunApplier(reverse)" : "RunApplier");
        if (!reverse) {
            applierStarted.countDown();
        }
        long failAt = System.currentTimeMillis() + (reverse ? reverseFailsAfterMs : applierFailAfterMs);
        try {
            heartbeatUntil(() -> {
                // read at each beat: a test may ask for the failure while the applier runs
                boolean fails = reverse ? reverseFailsAfterMs >= 0 : applierFails;
                if (fails && System.currentTimeMillis() >= failAt) {
                    throw ApplicationFailure.newNonRetryableFailure((reverse ? "reverse: " : "") + APPLY_ERROR, "ApplyDataError",
                            "public.orders", reverse ? 7 : 42);
                }
                return false;
            }, 6 * MAX_BLOCK_MS); // it runs for the whole migration
        } catch (ActivityCompletionException e) {
            record(reverse ? "RunApplier(reverse, cancelled)" : "RunApplier(cancelled)");
            throw e;
        }
    }

    @Override
    public StreamLag lag(StreamSpec spec) {
        record("StreamLag");
        heartbeatUntil(() -> !lagHolds);
        return lag;
    }

    @Override
    public String drain(StreamSpec spec, String lsn) {
        record("DrainStream" + dir(spec));
        if (reverseDrainFails && spec.direction() == StreamSpec.Direction.REVERSE) {
            throw ApplicationFailure.newNonRetryableFailure("marker 3 not reached", "Timeout");
        }
        if (drainHangs) {
            try {
                heartbeatUntil(() -> false);
            } catch (ActivityCompletionException e) {
                record("DrainStream(cancelled)");
                throw e;
            }
        }
        return lsn;
    }

    @Override
    public List<String> teardownCapture(StreamSpec spec) {
        record("TeardownCapture" + dir(spec));
        if (teardownFails) {
            throw ApplicationFailure.newNonRetryableFailure("connector dbmigrate_x: 503 from Kafka Connect", "Unavailable");
        }
        return Collections.singletonList(spec.connectorName());
    }

    private static String dir(StreamSpec spec) {
        return spec.direction() == StreamSpec.Direction.REVERSE ? "(reverse)" : "";
    }

    /** When set, the reverse applier fails (non-retryable) this long after it started. */
    volatile long reverseFailsAfterMs = -1;
    /** When set, the reverse drain fails (non-retryable). */
    volatile boolean reverseDrainFails;

    @Override
    public void prepareReverseCapture(StreamSpec reverse) {
        record("PrepareReverseCapture");
    }

    @Override
    public String markSwitchPoint(StreamSpec reverse) {
        record("MarkSwitchPoint");
        return "0/5000000";
    }
}
