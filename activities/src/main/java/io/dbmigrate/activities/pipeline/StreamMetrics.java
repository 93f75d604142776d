package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.StreamLag;
import io.dbmigrate.workflows.model.StreamSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running stream as the alerts see it (docs/monitoring.md): lag in bytes and seconds, the WAL its slot retains and
 * the source's {@code max_slot_wal_keep_size}, sampled every {@link #PERIOD_SECONDS} s on a thread of its own (a slow
 * source must not delay the applier's heartbeat), and the failures the applier and the capture watchdog count. The
 * counters exist from the stream's start at 0, so that a first failure is an increase Prometheus can see. One instance
 * per stream and worker ({@link #of}): an applier attempt after a failure samples into the same series.
 */
public final class StreamMetrics {
    private static final Logger log = LoggerFactory.getLogger(StreamMetrics.class);
    static final int PERIOD_SECONDS = 15;

    private final StreamSpec spec;
    private final MeterRegistry registry;
    private final Tags tags;
    private final AtomicReference<StreamLag> last = new AtomicReference<>();
    private final AtomicLong keepSize = new AtomicLong(-1);
    private final Counter captureRestarts;
    private final ScheduledExecutorService sampler;

    private static final java.util.Map<MeterRegistry, java.util.Map<String, StreamMetrics>> ALL = new java.util.WeakHashMap<>();

    public static synchronized StreamMetrics of(StreamSpec spec, MeterRegistry registry) {
        return ALL.computeIfAbsent(registry, r -> new java.util.concurrent.ConcurrentHashMap<>())
                .computeIfAbsent(spec.streamId(), id -> new StreamMetrics(spec, registry));
    }

    private StreamMetrics(StreamSpec spec, MeterRegistry registry) {
        this.spec = spec;
        this.registry = registry;
        this.tags = Tags.of("migration_id", spec.migrationId(), "stream", spec.streamId());
        Gauge.builder("dbmigrate.stream.lag.bytes", last, l -> l.get() == null ? Double.NaN : l.get().bytes()).tags(tags)
                .description("the capturing side's WAL position minus the last applied change's").register(registry);
        Gauge.builder("dbmigrate.stream.lag.seconds", last, l -> l.get() == null ? Double.NaN : l.get().secondsSinceLastApplied())
                .tags(tags).description("age of the newest applied source commit (about 1 s when caught up)").register(registry);
        Gauge.builder("dbmigrate.slot.retained.wal.bytes", last, l -> l.get() == null ? Double.NaN : l.get().slotRetainedBytes())
                .tags(tags).description("WAL the stream's slot keeps on the capturing side").register(registry);
        Gauge.builder("dbmigrate.slot.wal.keep.size.bytes", keepSize, AtomicLong::get).tags(tags)
                .description("max_slot_wal_keep_size of the capturing side, -1 when unlimited").register(registry);
        this.captureRestarts = Counter.builder("dbmigrate.capture.restarts").tags(tags)
                .description("restarts of the stream's failed Debezium task by the watchdog").register(registry);
        failure("none"); // the series exists at 0 (a type per failure kind is added as it happens)
        this.sampler = Executors.newSingleThreadScheduledExecutor(Parallel.daemon("dbmigrate-stream-metrics-" + spec.streamId()));
    }

    /** Samples while an applier attempt runs: closing the handle stops it. */
    public AutoCloseable sampling() {
        java.util.concurrent.ScheduledFuture<?> f = sampler.scheduleWithFixedDelay(this::sample, 0, PERIOD_SECONDS, TimeUnit.SECONDS);
        return () -> f.cancel(true);
    }

    void sample() {
        try {
            last.set(StreamMonitor.lag(spec));
            try (Connection c = Pg.connect(spec.from(), "dbmigrate-monitor")) {
                keepSize.set(Long.parseLong(Pg.one(c, "SELECT pg_size_bytes(current_setting('max_slot_wal_keep_size'))::text")));
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("stream metrics of {} not sampled: {}", spec.streamId(), e.getMessage());
        }
    }

    public void captureRestarted() {
        captureRestarts.increment();
    }

    /** The applier ended with a failure of this type (ApplyDataError, ApplierAlreadyRunning, CaptureFailed ...). */
    public void failure(String type) {
        Counter.builder("dbmigrate.apply.failures").tags(tags).tag("type", type)
                .description("applier attempts that ended in a failure, by type").register(registry)
                .increment("none".equals(type) ? 0 : 1);
    }
}
