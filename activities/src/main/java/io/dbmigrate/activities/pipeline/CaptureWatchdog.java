package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.workflows.model.StreamSpec;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a stream's Debezium task running: a task that failed (a Kafka or database outage kills it, and Connect
 * never restarts it) is restarted; Debezium resumes from its committed offsets and the applier skips what it
 * already applied. Failing again and again is not transient: after {@link #MAX_RESTARTS} restarts within ten
 * minutes the watchdog gives up with the task's own error.
 */
public final class CaptureWatchdog {
    private static final Logger log = LoggerFactory.getLogger(CaptureWatchdog.class);
    static final int MAX_RESTARTS = 5;

    private final ConnectClient connect;
    private final String connector;
    private final Deque<Long> restarts = new ArrayDeque<>();
    private long lastCheck;

    public CaptureWatchdog(ConnectClient connect, StreamSpec spec) {
        this.connect = connect;
        this.connector = spec.connectorName();
    }

    /** Cheap to call often: looks at Connect at most every 5 s. Returns the state seen (or null when not checked). */
    public String check() {
        long now = System.nanoTime();
        if (now - lastCheck < TimeUnit.SECONDS.toNanos(5)) {
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
            while (!restarts.isEmpty() && now - restarts.peekFirst() > TimeUnit.MINUTES.toNanos(10)) {
                restarts.removeFirst();
            }
            if (restarts.size() >= MAX_RESTARTS) {
                throw new IllegalStateException("connector " + connector + " failed " + MAX_RESTARTS
                        + " times in 10 minutes; last error: " + state);
            }
            log.warn("connector {} {}: restarting it", connector, state);
            restarts.addLast(now);
            try {
                connect.restartFailed(connector);
            } catch (RuntimeException e) {
                log.warn("restart of {} failed: {}", connector, e.getMessage());
            }
        }
        return state;
    }
}
