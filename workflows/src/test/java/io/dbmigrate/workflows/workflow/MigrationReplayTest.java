package io.dbmigrate.workflows.workflow;

import org.junit.jupiter.api.Test;

/**
 * Replays histories recorded from real runs of {@code ./dbmigrate demo} (saved with {@code ./dbmigrate history demo})
 * against today's workflow code: a change to the command sequence without Workflow.getVersion fails here.
 */
class MigrationReplayTest {
    /** Recorded before snapshot-copy: Debezium's snapshot, capture and the applier started in prepare. */
    @Test
    void completedDemoMigrationReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-completed.json");
    }

    /** Recorded with snapshot-copy and target-schema-sections: PrepareTargetTables, CopySnapshot, FinishTargetSchema. */
    @Test
    void completedDemoWithTargetSchemaSectionsReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-completed-schema-sections.json");
    }

    /** Recorded with snapshot-copy: CopySnapshot, then capture and the applier in the snapshot phase. */
    @Test
    void completedDemoWithSnapshotCopyReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-completed-snapshot-copy.json");
    }

    /**
     * Recorded with fallback-window, strategy pgbouncer: PrepareReverseCapture, PauseTraffic ... MarkSwitchPoint,
     * HoldSourceFence, RepointTraffic, ResumeTraffic, the reverse applier, the finalize update, RetireSource.
     */
    @Test
    void finalizedPgBouncerDemoReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-finalized-pgbouncer.json");
    }

    /** Recorded with fallback-window, strategy pgbouncer: the rollback update during the window. */
    @Test
    void rolledBackAfterCutoverPgBouncerDemoReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-rolled-back-after-cutover-pgbouncer.json");
    }

    /** Recorded with parallel-freeze: after the drain, sequences, validation, hold and repoint side by side. */
    @Test
    void finalizedPgBouncerDemoWithParallelFreezeReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-finalized-pgbouncer-parallel-freeze.json");
    }

    /** Recorded with recheck-before-pause: RecheckChanges between PrepareReverseCapture and PauseTraffic. */
    @Test
    void finalizedPgBouncerDemoWithRecheckBeforePauseReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-finalized-pgbouncer-recheck.json");
    }

    /** Recorded with parallel-freeze, strategy fence: the rollback update during the window (the target fenced). */
    @Test
    void rolledBackAfterCutoverFenceDemoWithParallelFreezeReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-rolled-back-after-cutover-fence-parallel-freeze.json");
    }

    /** Recorded before approval-lag-on-demand (commit f4cb0c6): WatchStream, lagReport signals, a refused update. */
    @Test
    void manualApprovalWithLagSignalsReplays() throws Exception {
        Replays.replayResource("histories/migration-manual-approval-before-lag-on-demand.json");
    }

    /** Recorded before approval-lag-on-demand (commit f4cb0c6): abort while WatchStream ran. */
    @Test
    void abortWhileAwaitingApprovalReplays() throws Exception {
        Replays.replayResource("histories/migration-abort-awaiting-approval-before-lag-on-demand.json");
    }

    /** Recorded by MigrationWorkflowTest (approval-lag-on-demand): two updates refused on lag, then one approved. */
    @Test
    void manualApprovalReadingLagOnDemandReplays() throws Exception {
        Replays.replayResource("histories/migration-manual-approval-refused-then-approved.json");
    }

    /** Recorded by MigrationWorkflowTest (approval-lag-on-demand): abort while awaiting approval. */
    @Test
    void abortWhileAwaitingApprovalOnDemandReplays() throws Exception {
        Replays.replayResource("histories/migration-abort-awaiting-approval.json");
    }

    /**
     * Recorded by MigrationWorkflowTest (validate-on-demand): a validate update that found differences, an approval
     * refused for them (not in history), a second validate that passed, then the approval and the cutover.
     */
    @Test
    void validateOnDemandDiffersThenPassesReplays() throws Exception {
        Replays.replayResource("histories/migration-validate-on-demand-differs-then-passes.json");
    }

    /** Recorded by MigrationWorkflowTest (cutover-deadline-timer): a drain that hung, cancelled when the timer fired. */
    @Test
    void cutoverDeadlineTimerFiredReplays() throws Exception {
        Replays.replayResource("histories/migration-cutover-deadline-timer-fired.json");
    }

    @Test
    void rolledBackAtCutoverReplays() throws Exception {
        Replays.replayResource("histories/migration-demo-rolled-back-at-cutover.json");
    }

    /**
     * Recorded by MigrationSearchAttributesTest (phase-search-attribute): started with dbmigrate's search attributes,
     * MigrationPhase upserted at each phase, manual approval.
     */
    @Test
    void searchAttributesUpsertedPerPhaseReplays() throws Exception {
        Replays.replayResource("histories/migration-search-attributes-manual.json");
    }
}
