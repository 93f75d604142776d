package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One direction of the change pipeline: capture from {@code from} (Debezium, slot and publication named after the
 * migration) into one single-partition Kafka topic, applied onto {@code to} by dbmigrate's applier.
 * The forward stream moves source -> target; the reverse stream (fallback after cutover) target -> source.
 */
public record StreamSpec(
        @JsonProperty("migrationId") String migrationId,
        @JsonProperty("direction") Direction direction,
        @JsonProperty("from") Endpoint from,
        @JsonProperty("to") Endpoint to,
        @JsonProperty("tables") List<TableRef> tables,
        @JsonProperty("snapshot") boolean snapshot,
        @JsonProperty("maxRecordBytes") @JsonInclude(JsonInclude.Include.NON_NULL) Long maxRecordBytes,
        @JsonProperty("redactValues") @JsonInclude(JsonInclude.Include.NON_NULL) Boolean redactValues) {

    public StreamSpec {
        MigrationId.require(migrationId);
        tables = List.copyOf(tables);
    }

    /** A stream with the default record limit. */
    public StreamSpec(String migrationId, Direction direction, Endpoint from, Endpoint to, List<TableRef> tables,
            boolean snapshot) {
        this(migrationId, direction, from, to, tables, snapshot, null, null);
    }

    /** A stream with the default redaction (the plan's redactValues unset). */
    public StreamSpec(String migrationId, Direction direction, Endpoint from, Endpoint to, List<TableRef> tables,
            boolean snapshot, Long maxRecordBytes) {
        this(migrationId, direction, from, to, tables, snapshot, maxRecordBytes, null);
    }

    /** The plan's redactValues: whether the applier's errors leave row values out of history. */
    @JsonIgnore
    public boolean redactsValues() {
        return redactValues == null || redactValues;
    }

    /** The largest change record every part of the pipeline accepts (plan setting limits.maxRecordBytes). */
    @JsonIgnore
    public long recordLimit() {
        return MigrationPlan.Limits.orDefault(maxRecordBytes);
    }

    public StreamSpec withSnapshot(boolean s) {
        return new StreamSpec(migrationId, direction, from, to, tables, s, maxRecordBytes, redactValues);
    }

    public enum Direction {
        @JsonProperty("forward") FORWARD,
        @JsonProperty("reverse") REVERSE
    }

    /** Base name of every object dbmigrate owns for this stream: slot, publication, heartbeat schema. */
    @JsonIgnore
    public String objectName() {
        return MigrationId.objectName(migrationId) + (direction == Direction.REVERSE ? "_rev" : "");
    }

    @JsonIgnore
    public String slotName() {
        return objectName();
    }

    @JsonIgnore
    public String publicationName() {
        return objectName();
    }

    /** Schema on the capturing side that holds dbmigrate's heartbeat/marker table. */
    @JsonIgnore
    public String controlSchema() {
        return objectName();
    }

    @JsonIgnore
    public String connectorName() {
        return objectName();
    }

    @JsonIgnore
    public String topic() {
        return objectName() + ".changes";
    }

    /** Row key of this stream in the applied-position table on the applying side. */
    @JsonIgnore
    public String streamId() {
        return objectName();
    }
}
