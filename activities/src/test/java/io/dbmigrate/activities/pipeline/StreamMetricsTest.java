package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The series the alert rules read exist from a stream's start, at 0, and survive an applier attempt's retry. */
class StreamMetricsTest {
    static StreamSpec spec(String id) {
        Endpoint e = new Endpoint("127.0.0.1", 1, "db", "u", "env:NONE");
        return new StreamSpec(id, StreamSpec.Direction.FORWARD, e, e, List.of(new TableRef("public", "t")), false);
    }

    @Test
    void countersStartAtZeroAndEveryAttemptOfAStreamCountsIntoTheSameSeries() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StreamMetrics first = StreamMetrics.of(spec("m1"), registry);
        Counter restarts = registry.find("dbmigrate.capture.restarts").tag("migration_id", "m1").tag("stream", "dbmigrate_m1").counter();
        assertNotNull(restarts, "a first restart must be an increase from an existing 0");
        assertEquals(0.0, restarts.count());
        assertNotNull(registry.find("dbmigrate.apply.failures").tag("stream", "dbmigrate_m1").counter());
        assertNotNull(registry.find("dbmigrate.slot.retained.wal.bytes").tag("stream", "dbmigrate_m1").gauge());

        first.captureRestarted();
        StreamMetrics retry = StreamMetrics.of(spec("m1"), registry);
        assertSame(first, retry, "a retried applier attempt reports into the same gauges");
        retry.captureRestarted();
        retry.failure("ApplyDataError");
        assertEquals(2.0, restarts.count());
        assertEquals(1.0, registry.find("dbmigrate.apply.failures").tag("type", "ApplyDataError").counter().count());
        assertEquals(0.0, registry.find("dbmigrate.apply.failures").tag("type", "none").counter().count());

        StreamMetrics other = StreamMetrics.of(spec("m2"), registry);
        other.captureRestarted();
        assertEquals(2.0, restarts.count(), "streams count apart");
    }
}
