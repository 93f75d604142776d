package io.dbmigrate.pipeline;

import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.workflows.model.ApplierProgress;
import io.dbmigrate.workflows.model.StreamSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** An applier on its own thread, with the progress callback a test chooses (the activity passes its heartbeat). */
final class ApplierThread implements AutoCloseable {
    private final ChangeApplier applier;
    private final AtomicBoolean keepGoing = new AtomicBoolean(true);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Thread thread;

    ApplierThread(StreamSpec spec) {
        this(spec, p -> {});
    }

    ApplierThread(StreamSpec spec, Consumer<ApplierProgress> progress) {
        this.applier = new ChangeApplier(spec, PipelineStack.bootstrap(), new SimpleMeterRegistry());
        this.thread = new Thread(() -> {
            try {
                applier.run(keepGoing::get, progress);
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                ended.countDown();
            }
        }, "applier-" + spec.streamId());
        thread.start();
    }

    ChangeApplier applier() {
        return applier;
    }

    Throwable failure() {
        return failure.get();
    }

    /** Whether run() returned or threw within {@code timeout}. */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The failure that ended run() within {@code timeout}, or null when it is still running (or ended without one). */
    Throwable awaitFailure(Duration timeout) throws InterruptedException {
        awaitEnd(timeout);
        return failure.get();
    }

    @Override
    public void close() throws InterruptedException {
        keepGoing.set(false);
        thread.join(60_000);
    }
}
