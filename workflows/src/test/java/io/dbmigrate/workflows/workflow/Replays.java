package io.dbmigrate.workflows.workflow;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Replays a history against today's workflow code. The replaying worker allows a workflow task 30 s instead of 1 s
 * before it calls a thread stuck: on a loaded 2-core machine the first task (class loading, JIT) took over a second
 * and the replay failed with a "potential deadlock" that says nothing about determinism.
 */
final class Replays {
    private Replays() {}

    static void replay(WorkflowExecutionHistory history) throws Exception {
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
            Worker worker = env.newWorker("replay", WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(30_000).build());
            worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
            WorkflowReplayer.replayWorkflowExecution(history, worker);
        }
    }

    static void replayResource(String resource) throws Exception {
        try (InputStream in = Replays.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no resource " + resource);
            }
            replay(WorkflowExecutionHistory.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
    }
}
