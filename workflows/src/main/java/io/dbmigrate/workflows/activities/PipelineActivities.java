package io.dbmigrate.workflows.activities;

import io.dbmigrate.workflows.model.SnapshotCopyReport;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/** The change pipeline as activities. Names are what an operator reads in the workflow history. */
@ActivityInterface
public interface PipelineActivities {

    /**
     * The initial copy: control schema and publication, then the stream's slot created with an exported snapshot, and
     * every table copied inside it by parallel {@code COPY} (heartbeats {@code SnapshotCopyProgress}). A retry copies
     * only unfinished tables and ranges; if the snapshot was lost (the worker that held it died) it starts over from a
     * new slot and says so in the result. Debezium then streams from the slot's consistent point.
     */
    @ActivityMethod(name = "CopySnapshot")
    SnapshotCopyReport copySnapshot(StreamSpec spec);

    /** Control schema, publication, topic and Debezium connector for one stream. Idempotent. */
    @ActivityMethod(name = "PrepareCapture")
    void prepareCapture(StreamSpec spec);

    /**
     * Applies the stream until cancelled (long-running; heartbeats its progress every second). Ends with a
     * non-retryable {@code ApplyDataError} when the target refuses a change; never skips one.
     */
    @ActivityMethod(name = "RunApplier")
    void runApplier(StreamSpec spec);

    @ActivityMethod(name = "StreamLag")
    StreamLag lag(StreamSpec spec);

    /** Returns once everything committed on the capturing side up to {@code lsn} (null: now) is applied. */
    @ActivityMethod(name = "DrainStream")
    String drain(StreamSpec spec, String lsn);

    /**
     * The reverse stream's capture (the target's publication, topic and connector), before the switch, and waits until
     * its slot exists on the target: from then on every change on the target is retained for the old source.
     */
    @ActivityMethod(name = "PrepareReverseCapture")
    void prepareReverseCapture(StreamSpec reverse);

    /**
     * Inside the write pause, after the forward drain: the target's WAL position now is the switch point. Everything
     * the target committed before it came from the source (the forward applier); the reverse applier skips it and
     * applies everything after it. Stored on the old source as the reverse stream's starting position; returns it.
     */
    @ActivityMethod(name = "MarkSwitchPoint")
    String markSwitchPoint(StreamSpec reverse);

    /** Connector (with its offsets), slot, publication, control schema and topic removed. Idempotent. */
    @ActivityMethod(name = "TeardownCapture")
    List<String> teardownCapture(StreamSpec spec);
}
