package io.dbmigrate.activities.validation;

/** Keeps the rows read per second under a limit (0: none), by pausing after each chunk until its rows are due. */
final class Throttle {
    private final long rowsPerSec;
    private final long start = System.nanoTime();
    private long rows;

    Throttle(long rowsPerSec) {
        this.rowsPerSec = rowsPerSec;
    }

    void pace(long chunkRows) throws InterruptedException {
        if (rowsPerSec <= 0) {
            return;
        }
        long due;
        synchronized (this) {
            rows += chunkRows;
            due = start + (long) (rows * 1e9 / rowsPerSec);
        }
        long wait = due - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
