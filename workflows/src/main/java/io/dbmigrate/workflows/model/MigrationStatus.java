package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The {@code status} query and the workflow's result. */
public record MigrationStatus(
        @JsonProperty("migrationId") String migrationId,
        @JsonProperty("state") State state,
        @JsonProperty("phase") Phase phase,
        @JsonProperty("tables") List<TableRef> tables,
        @JsonProperty("applier") ApplierProgress applier,
        @JsonProperty("lag") StreamLag lag,
        @JsonProperty("validation") ValidationReport validation,
        @JsonProperty("cutover") CutoverReport cutover,
        @JsonProperty("timings") List<PhaseTiming> timings,
        @JsonProperty("compensations") List<String> compensations,
        @JsonProperty("approvedBy") String approvedBy,
        // who asked for the validation that runs now (./dbmigrate validate); null when none runs on request
        @JsonProperty("validationRequestedBy") String validationRequestedBy,
        @JsonProperty("snapshotCopy") SnapshotCopyReport snapshotCopy,
        @JsonProperty("fallback") FallbackWindow fallback,
        @JsonProperty("sourceRetirement") SourceRetirement sourceRetirement,
        @JsonProperty("error") String error) {

    public enum State {
        @JsonProperty("RUNNING") RUNNING,
        @JsonProperty("AWAITING_APPROVAL") AWAITING_APPROVAL,
        @JsonProperty("COMPLETED") COMPLETED,
        @JsonProperty("ROLLING_BACK") ROLLING_BACK,
        @JsonProperty("ROLLED_BACK") ROLLED_BACK,
        /** Switched, then rolled back during the fallback window: the old source is the primary again. */
        @JsonProperty("ROLLED_BACK_AFTER_CUTOVER") ROLLED_BACK_AFTER_CUTOVER,
        @JsonProperty("FAILED") FAILED
    }

    public enum Phase {
        @JsonProperty("preflight") PREFLIGHT,
        @JsonProperty("prepare") PREPARE,
        @JsonProperty("snapshot") SNAPSHOT,
        @JsonProperty("validation") VALIDATION,
        @JsonProperty("approval") APPROVAL,
        @JsonProperty("cutover") CUTOVER,
        /** After the switch: the reverse stream keeps the old source current until finalize or rollback. */
        @JsonProperty("fallback") FALLBACK,
        @JsonProperty("cleanup") CLEANUP,
        @JsonProperty("done") DONE;

        public String label() {
            return name().toLowerCase();
        }
    }
}
