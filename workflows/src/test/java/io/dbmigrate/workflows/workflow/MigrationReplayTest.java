package io.dbmigrate.workflows.workflow;

import io.temporal.testing.WorkflowReplayer;
import org.junit.jupiter.api.Test;

/**
 * Replays histories recorded from real runs of {@code ./dbmigrate demo} (saved with {@code ./dbmigrate history demo})
 * against today's workflow code: a change to the command sequence without Workflow.getVersion fails here.
 */
class MigrationReplayTest {
    @Test
    void completedDemoMigrationReplays() throws Exception {
        WorkflowReplayer.replayWorkflowExecutionFromResource("histories/migration-demo-completed.json", MigrationWorkflowImpl.class);
    }

    @Test
    void rolledBackAtCutoverReplays() throws Exception {
        WorkflowReplayer.replayWorkflowExecutionFromResource("histories/migration-demo-rolled-back-at-cutover.json", MigrationWorkflowImpl.class);
    }
}
