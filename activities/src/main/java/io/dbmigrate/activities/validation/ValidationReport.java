package io.dbmigrate.activities.validation;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.List;

/** The whole comparison: every table's verdict, and what it cost. */
public record ValidationReport(
        @JsonProperty("source") String source,
        @JsonProperty("target") String target,
        @JsonProperty("equal") boolean equal,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("tables") List<TableReport> tables) {

    public static ValidationReport of(String source, String target, double seconds, List<TableReport> tables) {
        return new ValidationReport(source, target, tables.stream().allMatch(TableReport::equal), seconds, tables);
    }

    public long sourceRows() {
        return tables.stream().mapToLong(TableReport::sourceRows).sum();
    }

    public String toJson(boolean pretty) {
        try {
            ObjectMapper m = new ObjectMapper();
            if (pretty) {
                m.enable(SerializationFeature.INDENT_OUTPUT);
            }
            return m.writeValueAsString(this);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
