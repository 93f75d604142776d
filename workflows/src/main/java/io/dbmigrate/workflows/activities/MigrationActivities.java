package io.dbmigrate.workflows.activities;

import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PreflightReport;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.ValidationReport;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/** The migration's own steps (the change pipeline's are in {@link PipelineActivities}). */
@ActivityInterface
public interface MigrationActivities {
    /** Failure types that retrying cannot fix. */
    String PREFLIGHT_FAILED = "PreflightFailed";
    String VALIDATION_FAILED = "ValidationFailed";
    String INJECTED_FAULT = "InjectedFault";
    /** The target refused a definition of the source (the message names the object); nothing was left created. */
    String TARGET_SCHEMA_FAILED = "TargetSchemaFailed";
    /** PgBouncer could not pause: a client held a transaction open past the bound (traffic was resumed). */
    String TRAFFIC_PAUSE_TIMEOUT = "TrafficPauseTimeout";

    /** Reachability, wal_level, privileges, slots and senders, keys, types, long transactions, large objects, extensions. Changes nothing. */
    @ActivityMethod(name = "Preflight")
    PreflightReport preflight(MigrationPlan plan);

    /**
     * Creates on the target the tables it lacks, with the types, sequences, functions, views, keys, indexes and
     * triggers of their schemas that it lacks, from the source's catalogs, in one transaction; returns what it created
     * (schema-level objects, in creation order).
     */
    @ActivityMethod(name = "PrepareTargetSchema")
    List<DbObject> prepareTarget(MigrationPlan plan, List<TableRef> tables);

    /**
     * The preData section only: what {@link #prepareTarget} creates, less indexes, constraints other than primary keys,
     * triggers and views, which {@link #finishTargetSchema} builds after the initial copy.
     */
    @ActivityMethod(name = "PrepareTargetTables")
    List<DbObject> prepareTargetTables(MigrationPlan plan, List<TableRef> tables);

    /**
     * The postData section of the tables among {@code created}, after the data: each table family's indexes and
     * unique constraints in parallel, then foreign keys, triggers and views. Idempotent; returns the schema-level
     * objects it created (views), which the rollback drops too.
     */
    @ActivityMethod(name = "FinishTargetSchema")
    List<DbObject> finishTargetSchema(MigrationPlan plan, List<DbObject> created);

    /** Compensation: drops exactly what {@link #prepareTarget} created, newest first (the name is the history's). */
    @ActivityMethod(name = "DropCreatedTargetTables")
    void dropCreatedTargetTables(MigrationPlan plan, List<DbObject> created);

    /** Waits (heartbeating) until the snapshot is through and the stream's lag is under the plan's thresholds. */
    @ActivityMethod(name = "AwaitCatchUp")
    void awaitCatchUp(StreamSpec spec, MigrationPlan.Thresholds thresholds);

    /** Counts and per-primary-key-chunk checksums on both sides; {@code frozen}: writes are fenced, so exact. */
    @ActivityMethod(name = "ValidateData")
    ValidationReport validate(MigrationPlan plan, StreamSpec spec, List<TableRef> tables, boolean frozen);

    /**
     * Right before the write pause, writes still running: re-checks live only the rows the stream changed since the
     * last validation that passed, and moves its mark here, so that the frozen validation inside the pause has only
     * the last moments' changes to read. A table it cannot narrow down is validated whole, live.
     */
    @ActivityMethod(name = "RecheckChanges")
    ValidationReport recheckChanges(MigrationPlan plan, StreamSpec spec, List<TableRef> tables);

    /** Long-running: reports lag to the workflow (signal {@code lagReport}) while it waits for approval. */
    @ActivityMethod(name = "WatchStream")
    void watchStream(StreamSpec spec, String workflowId);

    /** Stops application writes on the source (a dbmigrate-owned trigger per table); returns the WAL position after it. */
    @ActivityMethod(name = "FenceSourceWrites")
    String fenceSource(MigrationPlan plan, List<TableRef> tables);

    /** Compensation and cleanup: removes the fence. Idempotent. */
    @ActivityMethod(name = "UnfenceSourceWrites")
    void unfenceSource(MigrationPlan plan);

    /**
     * Makes the fence permanent, just before the point of no return: the old source refuses application writes from
     * the switch until {@link #retireSource} (or a rollback) even if no worker is left. Fails if the fence is gone.
     */
    @ActivityMethod(name = "HoldSourceFence")
    void holdSourceFence(MigrationPlan plan);

    /**
     * Finalize, on the old source: its database set read-only for new sessions, the sessions still open ended, then
     * the fence removed (kept when either could not be done). Idempotent.
     */
    @ActivityMethod(name = "RetireSource")
    io.dbmigrate.workflows.model.SourceRetirement retireSource(MigrationPlan plan);

    /**
     * Strategy pgbouncer: {@code PAUSE} the plan's PgBouncer database (clients wait instead of failing), bounded by
     * {@code cutover.lockTimeoutSeconds}; a client holding a transaction open past it fails this non-retryably
     * ({@link #TRAFFIC_PAUSE_TIMEOUT}) after PgBouncer was resumed. Returns the drained pools, as PgBouncer shows them.
     */
    @ActivityMethod(name = "PauseTraffic")
    String pauseTraffic(MigrationPlan plan);

    /** Strategy pgbouncer: the database's entry rewritten to the plan's target and reloaded; idempotent. */
    @ActivityMethod(name = "RepointTraffic")
    boolean repointTraffic(MigrationPlan plan);

    /** Strategy pgbouncer: {@code RESUME}; returns the longest time a client waited in the pause (ms). Idempotent. */
    @ActivityMethod(name = "ResumeTraffic")
    long resumeTraffic(MigrationPlan plan);

    /** Target sequences set past the source's values and past every owned column's max. */
    @ActivityMethod(name = "SyncSequences")
    List<String> syncSequences(MigrationPlan plan, List<TableRef> tables);

    /** Removes dbmigrate's apply position schema from the target (after the streams are gone). */
    @ActivityMethod(name = "CleanupTarget")
    void cleanupTarget(MigrationPlan plan);

    /** Fails with a non-retryable {@link #INJECTED_FAULT}: rehearses rollback from the given phase (plan.faultInjection). */
    @ActivityMethod(name = "InjectFault")
    void injectFault(String phase);
}
