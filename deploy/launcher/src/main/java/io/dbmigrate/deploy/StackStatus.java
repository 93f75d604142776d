package io.dbmigrate.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** What {@code stack status --json} prints as its last line. */
public record StackStatus(
        @JsonProperty("healthy") boolean healthy,
        @JsonProperty("home") String home,
        @JsonProperty("components") List<ComponentHealth> components) {

    public static StackStatus of(String home, List<ComponentHealth> components) {
        return new StackStatus(components.stream().allMatch(ComponentHealth::healthy), home, components);
    }
}
