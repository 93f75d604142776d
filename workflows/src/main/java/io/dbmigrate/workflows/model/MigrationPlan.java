package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The workflow input: one JSON document, the same from {@code ./dbmigrate start --plan FILE} and from
 * {@code temporal workflow start --input}. Passwords are references ({@code env:NAME}, {@code file:PATH}) resolved on
 * the worker. Fields nobody knows are kept in {@link #unknownFields} so {@link PlanValidator} can name them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MigrationPlan(
        @JsonProperty("migrationId") String migrationId,
        @JsonProperty("source") Endpoint source,
        @JsonProperty("target") Endpoint target,
        @JsonProperty("schemas") List<String> schemas,
        @JsonProperty("tables") List<String> tables,
        @JsonProperty("thresholds") Thresholds thresholds,
        @JsonProperty("approval") String approval,
        @JsonProperty("cutover") CutoverOptions cutover,
        @JsonProperty("faultInjection") String faultInjection,
        @JsonProperty("snapshot") String snapshot,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {

    /** The initial copy: dbmigrate's parallel COPY in the slot's exported snapshot (the default). */
    public static final String SNAPSHOT_COPY = "copy";
    /** The initial copy by Debezium's own snapshot, for sources that cannot export a snapshot. */
    public static final String SNAPSHOT_DEBEZIUM = "debezium";

    @JsonCreator
    public MigrationPlan {
        unknownFields = unknownFields == null ? new LinkedHashMap<>() : unknownFields;
    }

    /** A plan with the default initial copy. */
    public MigrationPlan(String migrationId, Endpoint source, Endpoint target, List<String> schemas, List<String> tables,
            Thresholds thresholds, String approval, CutoverOptions cutover, String faultInjection,
            Map<String, Object> unknownFields) {
        this(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection, null, unknownFields);
    }

    public String snapshotOrDefault() {
        return snapshot == null ? SNAPSHOT_COPY : snapshot;
    }

    public MigrationPlan withSnapshot(String mode) {
        return new MigrationPlan(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection,
                mode, unknownFields);
    }

    /** Proceed to validation once lag is under these; validation reads chunks of this many rows. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Thresholds(
            @JsonProperty("maxLagSeconds") Double maxLagSeconds,
            @JsonProperty("maxLagBytes") Long maxLagBytes,
            @JsonProperty("validationChunkRows") Integer validationChunkRows) {

        public static Thresholds defaults() {
            return new Thresholds(5.0, 16L * 1024 * 1024, 10_000);
        }
    }

    /** How the switch behaves: the longest write pause allowed before the cutover gives up and reopens the source. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CutoverOptions(
            @JsonProperty("maxWritePauseSeconds") Integer maxWritePauseSeconds,
            @JsonProperty("lockTimeoutSeconds") Integer lockTimeoutSeconds) {

        public static CutoverOptions defaults() {
            return new CutoverOptions(30, 5);
        }
    }

    public Thresholds thresholdsOrDefault() {
        Thresholds d = Thresholds.defaults();
        if (thresholds == null) {
            return d;
        }
        return new Thresholds(thresholds.maxLagSeconds() != null ? thresholds.maxLagSeconds() : d.maxLagSeconds(),
                thresholds.maxLagBytes() != null ? thresholds.maxLagBytes() : d.maxLagBytes(),
                thresholds.validationChunkRows() != null ? thresholds.validationChunkRows() : d.validationChunkRows());
    }

    public CutoverOptions cutoverOrDefault() {
        CutoverOptions d = CutoverOptions.defaults();
        if (cutover == null) {
            return d;
        }
        return new CutoverOptions(cutover.maxWritePauseSeconds() != null ? cutover.maxWritePauseSeconds() : d.maxWritePauseSeconds(),
                cutover.lockTimeoutSeconds() != null ? cutover.lockTimeoutSeconds() : d.lockTimeoutSeconds());
    }

    public List<String> schemasOrDefault() {
        return schemas == null || schemas.isEmpty() ? List.of("public") : schemas;
    }

    public boolean autoApprove() {
        return "auto".equals(approval);
    }

    public String workflowId() {
        return "migration-" + migrationId;
    }
}
