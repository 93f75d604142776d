package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.workflows.model.ApplierProgress;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The target goes away while changes arrive ({@link PgProxy#outage()}): the applier retries, and its retry loop keeps
 * calling the progress callback (the activity's heartbeat) about once a second with {@code retrying} set, so a long
 * outage neither times out the activity's heartbeat nor hides a cancellation: a heartbeat that throws stops it.
 */
class TargetOutageIT {
    private record Beat(long nanos, String retrying) {}

    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("the activity was cancelled (test)");
        }
    }

    @Test
    void theRetryLoopHeartbeatsAndStopsWhenTheHeartbeatThrows() throws Exception {
        String db = "outage";
        StreamSpec spec = SingleApplierIT.itemsStream(db);
        Endpoint src = PipelineStack.source(db);
        List<Beat> beats = new CopyOnWriteArrayList<>();
        AtomicBoolean cancelled = new AtomicBoolean();
        Consumer<ApplierProgress> heartbeat = p -> {
            beats.add(new Beat(System.nanoTime(), p.retrying()));
            if (cancelled.get()) {
                throw new Cancelled();
            }
        };
        try (PgProxy proxy = new PgProxy(spec.to())) {
            StreamSpec viaProxy = new StreamSpec(spec.migrationId(), spec.direction(), spec.from(),
                    proxy.endpoint(spec.to()), spec.tables(), spec.snapshot());
            try (ApplierThread applier = new ApplierThread(viaProxy, heartbeat)) {
                StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
                PipelineStack.exec(src, "INSERT INTO items SELECT g, g, 'before' FROM generate_series(1, 50) g");
                StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});

                // 8 s without the target while changes keep coming: Debezium's heartbeat commits every second, and
                // more rows once the applier retries (see awaitRetrying)
                long start = System.nanoTime();
                proxy.outage();
                awaitRetrying(beats, start);
                PipelineStack.exec(src, "INSERT INTO items SELECT g, g, 'during' FROM generate_series(51, 100) g");
                Thread.sleep(Math.max(0, Duration.ofSeconds(8).toMillis() - Duration.ofNanos(System.nanoTime() - start).toMillis()));
                long end = System.nanoTime();
                assertNull(applier.failure());
                List<Beat> during = beats.stream().filter(b -> b.nanos() >= start && b.nanos() <= end).toList();
                long gap = maxGapMillis(start, during, end);
                assertTrue(gap < 2500, "the heartbeat paused " + gap + " ms during the outage (" + during.size() + " beats)");
                System.out.println(during.size() + " heartbeats in the 8 s outage, longest gap " + gap + " ms, last: "
                        + during.get(during.size() - 1).retrying());

                proxy.restore();
                StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
                assertNull(applier.failure());
                assertNull(applier.applier().progress().retrying());
                SingleApplierIT.assertSameItems(db);

                // cancelled while retrying: the next heartbeat throws, and the applier stops at once
                long second = System.nanoTime();
                proxy.outage();
                awaitRetrying(beats, second);
                cancelled.set(true);
                assertTrue(applier.awaitEnd(Duration.ofSeconds(5)), "a cancelled applier kept retrying");
                assertInstanceOf(Cancelled.class, applier.failure());
                proxy.restore();
            }
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /**
     * Waits until a heartbeat after {@code since} reports retrying. Rows are written to the source only after that:
     * the first statement on the cut connection is then the position write of a heartbeat group, not a batch. (A batch
     * on a connection pgjdbc has just found dead trips an internal {@code assert} of pgjdbc's BatchResultHandler, an
     * AssertionError under the tests' -ea; without -ea, as in production, it is the same I/O error as any other.)
     */
    private static void awaitRetrying(List<Beat> beats, long since) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (beats.stream().noneMatch(b -> b.nanos() > since && b.retrying() != null)) {
            assertTrue(System.nanoTime() < deadline, "no heartbeat reported retrying within 20 s of the outage");
            Thread.sleep(20);
        }
    }

    private static long maxGapMillis(long start, List<Beat> beats, long end) {
        long gap = 0;
        long last = start;
        for (Beat b : beats) {
            gap = Math.max(gap, b.nanos() - last);
            last = b.nanos();
        }
        return Duration.ofNanos(Math.max(gap, end - last)).toMillis();
    }
}
