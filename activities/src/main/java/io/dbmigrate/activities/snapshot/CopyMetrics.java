package io.dbmigrate.activities.snapshot;

import io.dbmigrate.workflows.model.SnapshotCopyProgress;
import io.dbmigrate.workflows.model.SnapshotCopyReport;
import io.dbmigrate.workflows.model.StreamSpec;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The initial copy's progress as gauges (Prometheus: {@code dbmigrate_snapshot_rows}, {@code _bytes},
 * {@code _estimated_rows}, {@code _eta_seconds}, per stream; {@code dbmigrate_snapshot_table_rows} per table), set
 * from the same progress the activity heartbeats, so the dashboard and {@code status} agree.
 */
public final class CopyMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicLong> values = new ConcurrentHashMap<>();

    public CopyMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void record(StreamSpec spec, SnapshotCopyProgress p) {
        String s = spec.streamId();
        set(s, null, "dbmigrate.snapshot.rows", p.rows());
        set(s, null, "dbmigrate.snapshot.bytes", p.bytes());
        set(s, null, "dbmigrate.snapshot.estimated.rows", p.estimatedRows());
        set(s, null, "dbmigrate.snapshot.eta.seconds", p.etaSeconds() == null ? -1 : p.etaSeconds());
        for (SnapshotCopyProgress.Table t : p.tables()) {
            set(s, t.table(), "dbmigrate.snapshot.table.rows", t.rows());
        }
    }

    public void record(StreamSpec spec, SnapshotCopyReport r) {
        String s = spec.streamId();
        set(s, null, "dbmigrate.snapshot.rows", r.rows());
        set(s, null, "dbmigrate.snapshot.bytes", r.bytes());
        set(s, null, "dbmigrate.snapshot.eta.seconds", 0);
        for (SnapshotCopyReport.Table t : r.tables()) {
            set(s, t.table(), "dbmigrate.snapshot.table.rows", t.rows());
        }
    }

    private void set(String stream, String table, String name, long value) {
        String key = name + "|" + stream + "|" + table;
        values.computeIfAbsent(key, k -> {
            AtomicLong v = new AtomicLong();
            Gauge.Builder<AtomicLong> b = Gauge.builder(name, v, AtomicLong::get).tag("stream", stream);
            if (table != null) {
                b.tag("table", table);
            }
            b.register(registry);
            return v;
        }).set(value);
    }
}
