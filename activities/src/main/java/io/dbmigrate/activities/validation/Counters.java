package io.dbmigrate.activities.validation;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the engine did and held, for tests and benchmarks. {@code rowsHeld} counts the rows the JVM holds at once:
 * the rows pgjdbc buffers per open cursor (its fetch size), split points, and the differences kept for the report;
 * its peak is what bounds the engine's memory, whatever the table's size.
 */
public final class Counters {
    final AtomicLong slicesScanned = new AtomicLong();
    final AtomicLong rangesHashed = new AtomicLong();
    final AtomicLong rowsHashed = new AtomicLong();
    final AtomicLong rowsStreamed = new AtomicLong();
    final AtomicLong bucketsSieved = new AtomicLong();
    private final AtomicLong rowsHeld = new AtomicLong();
    private final AtomicLong peakRowsHeld = new AtomicLong();

    void hold(long rows) {
        long now = rowsHeld.addAndGet(rows);
        peakRowsHeld.accumulateAndGet(now, Math::max);
    }

    void release(long rows) {
        rowsHeld.addAndGet(-rows);
    }

    /** Ranges read by the passes (block ranges, or runs of chunks read by key), both sides; a resumed run skips the finished ones. */
    public long slicesScanned() {
        return slicesScanned.get();
    }

    /** Key ranges hashed on both sides by the narrowing of differing chunks. */
    public long rangesHashed() {
        return rangesHashed.get();
    }

    /** Source rows read by the passes. */
    public long rowsHashed() {
        return rowsHashed.get();
    }

    /** Rows streamed to the JVM (key and hash) by the narrowing of differing ranges, both sides. */
    public long rowsStreamed() {
        return rowsStreamed.get();
    }

    /** Buckets of key hashes compared by the narrowing before it streams rows (both sides' buckets counted once). */
    public long bucketsSieved() {
        return bucketsSieved.get();
    }

    public long peakRowsHeld() {
        return peakRowsHeld.get();
    }
}
