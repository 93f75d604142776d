package io.dbmigrate.activities.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.workflows.model.StreamSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a stream's Debezium task running: a task that failed (a Kafka or database outage kills it, and Connect
 * never restarts it) is restarted; Debezium resumes from its committed offsets and the applier skips what it
 * already applied. Failing again and again is not transient: after {@link #MAX_RESTARTS} restarts within ten
 * minutes the watchdog gives up with {@link CaptureFailed}, carrying the task's own error trimmed to its causes and,
 * where the cause is known, its fix. A retry would only start the same cycle again: the caller ends the stream.
 */
public final class CaptureWatchdog {
    private static final Logger log = LoggerFactory.getLogger(CaptureWatchdog.class);
    static final int MAX_RESTARTS = 5;
    private static final long WINDOW_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final ConnectClient connect;
    private final String connector;
    private final long recordLimit;
    private final long checkEveryNanos;
    private final LongSupplier clock;
    private final Deque<Long> restarts = new ArrayDeque<>();
    private Runnable onRestart = () -> {};
    private Long lastCheck;

    public CaptureWatchdog(ConnectClient connect, StreamSpec spec) {
        this(connect, spec, TimeUnit.SECONDS.toNanos(5), System::nanoTime);
    }

    /** Told of each restart (the stream's metrics count them). */
    public CaptureWatchdog onRestart(Runnable r) {
        this.onRestart = r;
        return this;
    }

    CaptureWatchdog(ConnectClient connect, StreamSpec spec, long checkEveryNanos, LongSupplier clock) {
        this.connect = connect;
        this.connector = spec.connectorName();
        this.recordLimit = spec.recordLimit();
        this.checkEveryNanos = checkEveryNanos;
        this.clock = clock;
    }

    /** Cheap to call often: looks at Connect at most every 5 s. Returns the state seen (or null when not checked). */
    public String check() {
        long now = clock.getAsLong();
        if (lastCheck != null && now - lastCheck < checkEveryNanos) {
            return null;
        }
        lastCheck = now;
        String state;
        try {
            state = connect.state(connector);
        } catch (RuntimeException e) {
            return "UNREACHABLE: " + e.getMessage(); // Connect itself down: nothing to restart from here
        }
        if (state.startsWith("FAILED")) {
            while (!restarts.isEmpty() && now - restarts.peekFirst() > WINDOW_NANOS) {
                restarts.removeFirst();
            }
            if (restarts.size() >= MAX_RESTARTS) {
                throw new CaptureFailed(giveUpMessage(state));
            }
            log.warn("connector {} {}: restarting it", connector, state);
            restarts.addLast(now);
            onRestart.run();
            try {
                connect.restartFailed(connector);
            } catch (RuntimeException e) {
                log.warn("restart of {} failed: {}", connector, e.getMessage());
            }
        }
        return state;
    }

    private String giveUpMessage(String state) {
        String trace;
        try {
            trace = connect.status(connector).map(CaptureWatchdog::failedTrace).orElse("");
        } catch (RuntimeException e) {
            trace = "";
        }
        String cause = trace.isEmpty() ? state : causes(trace);
        StringBuilder m = new StringBuilder("the Debezium connector ").append(connector).append(" failed again after ")
                .append(MAX_RESTARTS).append(" restarts within 10 minutes, so capture has stopped: ").append(cause);
        String fix = fix(trace.isEmpty() ? state : trace, recordLimit);
        if (fix != null) {
            m.append("\nFix: ").append(fix);
        }
        m.append("\nThe connector's full trace: GET /connectors/").append(connector).append("/status on Kafka Connect");
        return m.toString();
    }

    private static String failedTrace(JsonNode status) {
        for (JsonNode task : status.path("tasks")) {
            if ("FAILED".equals(task.path("state").asText())) {
                return task.path("trace").asText("");
            }
        }
        return status.path("connector").path("trace").asText("");
    }

    /** A Java trace without its frames: the first line and each "Caused by" line, each cut to a readable length. */
    static String causes(String trace) {
        List<String> out = new ArrayList<>();
        String[] lines = trace.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (i == 0 || l.startsWith("Caused by: ")) {
                out.add(l.length() > 600 ? l.substring(0, 600) + "..." : l);
            }
        }
        return String.join("\n  ", out);
    }

    /** The fix for a cause dbmigrate recognises, else null. */
    static String fix(String trace, long recordLimit) {
        if (trace.contains("RecordTooLargeException") || trace.contains("RecordBatchTooLargeException")) {
            return "a row's change record (Debezium's JSON of the change, before and after images included) is larger "
                    + "than the pipeline's record limit, limits.maxRecordBytes = " + recordLimit + " bytes. Raise "
                    + "limits.maxRecordBytes in the plan (at most 1 GiB; above 100 MiB the broker's "
                    + "socket.request.max.bytes must be raised too, and Kafka Connect's heap must hold a few such records) "
                    + "and start the migration again, or make the value smaller on the source.";
        }
        if (trace.contains("password authentication failed") || trace.contains("no pg_hba.conf entry")) {
            return "the source refused the connector's login: check the source endpoint's passwordRef as the Kafka "
                    + "Connect worker resolves it, and pg_hba.conf for replication connections.";
        }
        return null;
    }

    /** Capture stopped for a reason restarting does not fix; the message says which, and the fix when known. */
    public static final class CaptureFailed extends RuntimeException {
        public CaptureFailed(String message) {
            super(message);
        }
    }
}
