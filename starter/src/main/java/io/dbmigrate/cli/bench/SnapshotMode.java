package io.dbmigrate.cli.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PlanValidator;
import java.util.List;

/**
 * The plan's {@code "snapshot"} field ({@code "copy"} or {@code "debezium"}): how a migration makes its initial copy.
 * The bench sets it through the plan's JSON form, the one {@code ./dbmigrate start} and the Temporal CLI send, so it
 * compiles against a plan with or without the field; whether this build's plan knows the field is asked of
 * {@link PlanValidator}, which names every field it does not know.
 */
final class SnapshotMode {
    static final String FIELD = "snapshot";
    static final String DEBEZIUM = "debezium";
    private static final ObjectMapper JSON = new ObjectMapper();

    private SnapshotMode() {}

    /** The plan with {@code "snapshot": mode}; {@code mode} null leaves the plan as it is (the plan's default). */
    static MigrationPlan with(MigrationPlan plan, String mode) {
        if (mode == null) {
            return plan;
        }
        ObjectNode json = JSON.valueToTree(plan);
        json.put(FIELD, mode);
        try {
            return JSON.treeToValue(json, MigrationPlan.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the plan does not take \"" + FIELD + "\": \"" + mode + "\": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Whether a plan may carry {@code "snapshot": mode}: false when the plan has no such field (then there is one
     * path, Debezium's own snapshot); an error when it has the field but refuses the value.
     */
    static boolean selectable(MigrationPlan plan, String mode) {
        List<String> problems = PlanValidator.problems(with(plan, mode)).stream()
                .filter(p -> p.contains("'" + FIELD + "'")).toList();
        if (problems.isEmpty()) {
            return true;
        }
        if (problems.stream().allMatch(p -> p.startsWith("unknown field"))) {
            return false;
        }
        throw new IllegalStateException("the plan refuses \"" + FIELD + "\": \"" + mode + "\": " + problems);
    }
}
