package io.dbmigrate.workflows.workflow;

import io.temporal.workflow.Functions;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;

/**
 * The saga: each step that changes something registers its undo before it runs. {@link #compensate} runs them once,
 * newest first, each even if an earlier one failed, and records what ran (shown in status and history).
 */
final class Compensations {
    private static final Logger log = Workflow.getLogger(Compensations.class);

    private record Step(String name, Functions.Proc undo) {}

    private final List<Step> steps = new ArrayList<>();
    private final List<String> ran = new ArrayList<>();

    void register(String name, Functions.Proc undo) {
        steps.add(new Step(name, undo));
    }

    /** Past the point of no return there is nothing to undo; cleanup takes over. */
    void forget() {
        steps.clear();
    }

    List<String> ran() {
        return ran;
    }

    /** Runs every registered undo, newest first; returns the failures (empty when all succeeded). */
    List<String> compensate() {
        List<String> failures = new ArrayList<>();
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step s = steps.get(i);
            try {
                s.undo().apply();
                ran.add(s.name());
            } catch (RuntimeException e) {
                ran.add(s.name() + " (FAILED)");
                // the cause's own message, not the ActivityFailure's ("Activity task failed", event ids)
                String why = MigrationContext.describe(e);
                failures.add(s.name() + ": " + why);
                log.error("compensation {} failed: {}", s.name(), why);
            }
        }
        steps.clear();
        return failures;
    }
}
