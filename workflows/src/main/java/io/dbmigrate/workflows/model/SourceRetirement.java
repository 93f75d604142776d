package io.dbmigrate.workflows.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What finalize did to the old source: its database set read-only for new sessions, the sessions still open ended
 * (they reconnect read-only), and then the write fence removed. {@code sessionsLeft}: sessions this role could not
 * end; while any is left, or when the database could not be made read-only, the fence stays (see RUNBOOK).
 */
public record SourceRetirement(
        @JsonProperty("readOnly") boolean readOnly,
        @JsonProperty("sessionsEnded") int sessionsEnded,
        @JsonProperty("sessionsLeft") List<String> sessionsLeft,
        @JsonProperty("fenceRemoved") boolean fenceRemoved) {}
