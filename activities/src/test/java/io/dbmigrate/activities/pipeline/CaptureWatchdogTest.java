package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.connect.StandInConnect;
import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watchdog's give-up, against a stand-in Kafka Connect REST server whose connector task keeps failing. */
class CaptureWatchdogTest {
    /** What Connect's status shows for a task the producer failed (trimmed from a real one). */
    static final String TOO_LARGE = """
            org.apache.kafka.connect.errors.ConnectException: Unrecoverable exception from producer send callback
            \tat org.apache.kafka.connect.runtime.WorkerSourceTask.maybeThrowProducerSendException(WorkerSourceTask.java:340)
            \tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.execute(AbstractWorkerSourceTask.java:367)
            \tat java.base/java.lang.Thread.run(Thread.java:840)
            Caused by: org.apache.kafka.common.errors.RecordTooLargeException: The message is 300118 bytes when serialized \
            which is larger than 262144, which is the value of the max.request.size configuration.
            """;

    private StandInConnect server;
    private final AtomicInteger restarts = new AtomicInteger();
    private volatile String taskState = "FAILED";

    private ConnectClient start() throws IOException {
        ObjectMapper json = new ObjectMapper();
        server = new StandInConnect((method, path) -> {
            if (path.endsWith("/restart")) {
                restarts.incrementAndGet();
                return new StandInConnect.Answer(202, "{}");
            }
            try {
                return new StandInConnect.Answer(200, json.writeValueAsString(Map.of("name", "dbmigrate_w",
                        "connector", Map.of("state", "RUNNING"),
                        "tasks", List.of(Map.of("id", 0, "state", taskState, "trace", TOO_LARGE)))));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return server.client();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static StreamSpec spec() {
        Endpoint e = new Endpoint("h", 5432, "d", "u", "env:X");
        return new StreamSpec("w", StreamSpec.Direction.FORWARD, e, e, List.of(new TableRef("public", "t")), false, 256L * 1024);
    }

    @Test
    void aTaskThatKeepsFailingEndsWithItsCauseAndTheFix() throws Exception {
        AtomicLong now = new AtomicLong();
        CaptureWatchdog w = new CaptureWatchdog(start(), spec(), TimeUnit.SECONDS.toNanos(5), now::get);
        for (int i = 0; i < CaptureWatchdog.MAX_RESTARTS; i++) {
            assertTrue(w.check().startsWith("FAILED"));
            assertNull(w.check(), "looks at Connect at most every 5 s");
            now.addAndGet(TimeUnit.SECONDS.toNanos(5));
        }
        assertEquals(CaptureWatchdog.MAX_RESTARTS, restarts.get());
        CaptureWatchdog.CaptureFailed e = assertThrows(CaptureWatchdog.CaptureFailed.class, w::check);
        String m = e.getMessage();
        assertEquals(CaptureWatchdog.MAX_RESTARTS, restarts.get(), "no restart after giving up");
        assertTrue(m.contains("dbmigrate_w"), m);
        assertTrue(m.contains("Caused by: org.apache.kafka.common.errors.RecordTooLargeException: The message is 300118 bytes"), m);
        assertTrue(m.contains("limits.maxRecordBytes = 262144"), m);
        assertFalse(m.contains("WorkerSourceTask.java"), "no stack frames: " + m);
    }

    @Test
    void restartsSpreadOverMoreThanTenMinutesNeverGiveUpAndARecoveredTaskIsLeftAlone() throws Exception {
        AtomicLong now = new AtomicLong();
        CaptureWatchdog w = new CaptureWatchdog(start(), spec(), TimeUnit.SECONDS.toNanos(5), now::get);
        for (int i = 0; i < 3 * CaptureWatchdog.MAX_RESTARTS; i++) {
            assertTrue(w.check().startsWith("FAILED"));
            now.addAndGet(TimeUnit.MINUTES.toNanos(3));
        }
        assertEquals(3 * CaptureWatchdog.MAX_RESTARTS, restarts.get());
        taskState = "RUNNING";
        assertEquals("RUNNING", w.check());
        assertEquals(3 * CaptureWatchdog.MAX_RESTARTS, restarts.get());
    }

    @Test
    void anUnknownCauseHasNoInventedFix() {
        assertNull(CaptureWatchdog.fix("org.postgresql.util.PSQLException: ERROR: replication slot is active", 1));
        assertEquals("a\n  Caused by: b", CaptureWatchdog.causes("a\n\tat x\nCaused by: b\n\t... 3 more"));
    }
}
