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
        @JsonProperty("limits") Limits limits,
        @JsonProperty("redactValues") Boolean redactValues,
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
        this(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection, null, null, null,
                unknownFields);
    }

    /** A plan with the default redaction. */
    public MigrationPlan(String migrationId, Endpoint source, Endpoint target, List<String> schemas, List<String> tables,
            Thresholds thresholds, String approval, CutoverOptions cutover, String faultInjection, String snapshot,
            Limits limits, Map<String, Object> unknownFields) {
        this(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection, snapshot, limits,
                null, unknownFields);
    }

    /** A plan with the default pipeline limits. */
    public MigrationPlan(String migrationId, Endpoint source, Endpoint target, List<String> schemas, List<String> tables,
            Thresholds thresholds, String approval, CutoverOptions cutover, String faultInjection, String snapshot,
            Map<String, Object> unknownFields) {
        this(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection, snapshot, null,
                null, unknownFields);
    }

    /**
     * Whether errors and reports that reach the workflow history (and everyone who can read it) leave out row values:
     * keys become a stable hash ({@code key#1a2b3c4d}), the database's row details are dropped; the worker's log keeps
     * the full text for the operator. On unless the plan says {@code "redactValues": false}.
     */
    public boolean redactsValues() {
        return redactValues == null || redactValues;
    }

    public String snapshotOrDefault() {
        return snapshot == null ? SNAPSHOT_COPY : snapshot;
    }

    public MigrationPlan withSnapshot(String mode) {
        return new MigrationPlan(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection,
                mode, limits, redactValues, unknownFields);
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

    /**
     * How the switch behaves. {@code strategy}: {@code fence} (the source refuses writes during the pause; applications
     * move their own connection string) or {@code pgbouncer} (clients wait in PgBouncer's PAUSE and are repointed at the
     * target). The pause is bounded by {@code maxWritePauseSeconds}. {@code fallbackWindowMinutes}: how long after the
     * switch a reverse stream keeps the old source up to date so that {@code rollback} can return to it; 0 ends the
     * migration at the switch. The old source refuses application writes from the switch until {@code finalize}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CutoverOptions(
            @JsonProperty("maxWritePauseSeconds") Integer maxWritePauseSeconds,
            @JsonProperty("lockTimeoutSeconds") Integer lockTimeoutSeconds,
            @JsonProperty("strategy") String strategy,
            @JsonProperty("pgbouncer") PgBouncerOptions pgbouncer,
            @JsonProperty("fallbackWindowMinutes") Integer fallbackWindowMinutes) {

        public static final String FENCE = "fence";
        public static final String PGBOUNCER = "pgbouncer";

        public CutoverOptions(Integer maxWritePauseSeconds, Integer lockTimeoutSeconds) {
            this(maxWritePauseSeconds, lockTimeoutSeconds, null, null, null);
        }

        public static CutoverOptions defaults() {
            return new CutoverOptions(30, 5, FENCE, null, 0);
        }

        public boolean viaPgBouncer() {
            return PGBOUNCER.equals(strategy);
        }
    }

    /**
     * The PgBouncer that applications connect through. {@code admin}: its admin console (database {@code pgbouncer},
     * a user listed in {@code admin_users}). {@code database}: the database name clients use in PgBouncer.
     * {@code databasesFile}: the ini fragment, included by pgbouncer.ini, that holds that database's entry; the worker
     * rewrites it and sends {@code RELOAD}, so it must be writable by the worker (same machine or a shared volume).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PgBouncerOptions(
            @JsonProperty("admin") Endpoint admin,
            @JsonProperty("database") String database,
            @JsonProperty("databasesFile") String databasesFile) {}

    /**
     * What the change pipeline can carry. {@code maxRecordBytes}: the largest change record (one row's change as
     * Debezium's JSON, before and after images included) the topic, Connect's producer and the applier accept.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Limits(@JsonProperty("maxRecordBytes") Long maxRecordBytes) {
        /** 64 MiB: below Kafka's default socket.request.max.bytes (100 MiB), and a few times within a 1 GiB Connect heap. */
        public static final long DEFAULT_MAX_RECORD_BYTES = 64L * 1024 * 1024;
        public static final long MIN_MAX_RECORD_BYTES = 64L * 1024;
        /** Kafka's sizes are ints; a produce request must also fit the broker's socket.request.max.bytes. */
        public static final long MAX_MAX_RECORD_BYTES = 1024L * 1024 * 1024;

        /** A set limit, or the default for null. */
        public static long orDefault(Long maxRecordBytes) {
            return maxRecordBytes == null ? DEFAULT_MAX_RECORD_BYTES : maxRecordBytes;
        }
    }

    /** The plan's record limit, or null for the default (null keeps the activities' inputs as before the setting). */
    public Long maxRecordBytesOrNull() {
        return limits == null ? null : limits.maxRecordBytes();
    }

    public MigrationPlan withLimits(Limits l) {
        return new MigrationPlan(migrationId, source, target, schemas, tables, thresholds, approval, cutover, faultInjection,
                snapshot, l, redactValues, unknownFields);
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
                cutover.lockTimeoutSeconds() != null ? cutover.lockTimeoutSeconds() : d.lockTimeoutSeconds(),
                cutover.strategy() != null ? cutover.strategy() : d.strategy(), cutover.pgbouncer(),
                cutover.fallbackWindowMinutes() != null ? cutover.fallbackWindowMinutes() : d.fallbackWindowMinutes());
    }

    public MigrationPlan withCutover(CutoverOptions options) {
        return new MigrationPlan(migrationId, source, target, schemas, tables, thresholds, approval, options, faultInjection,
                snapshot, limits, redactValues, unknownFields);
    }

    /** The same plan seen from the other side (source and target swapped): the fallback's steps on the target. */
    public MigrationPlan reversed() {
        return new MigrationPlan(migrationId, target, source, schemas, tables, thresholds, approval, cutover, faultInjection,
                snapshot, limits, redactValues, unknownFields);
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
