package io.dbmigrate.cli.migrate;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.PlanValidator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Reads and checks a plan file; errors name the field. */
public final class PlanFile {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private PlanFile() {}

    public static MigrationPlan read(Path file) {
        MigrationPlan plan;
        try {
            plan = JSON.readValue(file.toFile(), MigrationPlan.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read plan " + file + ": " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        List<String> problems = PlanValidator.problems(plan);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("plan " + file + " is invalid:\n  - " + String.join("\n  - ", problems));
        }
        return plan;
    }
}
