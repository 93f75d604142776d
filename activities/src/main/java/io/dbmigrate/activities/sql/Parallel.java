package io.dbmigrate.activities.sql;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** Database work on several connections at once, with the activity's heartbeat kept going while it runs. */
public final class Parallel {
    private Parallel() {}

    /** Threads named {@code name} that do not keep the JVM alive (a worker stops without waiting for them). */
    public static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** One piece of work (it opens and closes its own connections). */
    public interface Task {
        void run() throws Exception;
    }

    /**
     * Runs the tasks, {@code threads} at a time, calling {@code beat} every second and once more at the end (a beat
     * that throws stops the work). The first failure stops the rest: {@code onFailure} runs first (a task blocked in
     * a COPY sees no interrupt; ending its sessions stops it), then the failure is thrown as it was.
     */
    public static void run(String threadName, List<Task> tasks, int threads, Runnable beat, Runnable onFailure)
            throws SQLException, InterruptedException {
        if (tasks.isEmpty()) {
            return;
        }
        AtomicReference<Exception> failure = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, tasks.size())), daemon(threadName));
        for (Task task : tasks) {
            pool.execute(() -> {
                if (failure.get() != null) {
                    return;
                }
                try {
                    task.run();
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        pool.shutdown();
        try {
            while (!pool.awaitTermination(1, TimeUnit.SECONDS) && failure.get() == null) {
                beat.run();
            }
            if (failure.get() == null) {
                beat.run();
            }
        } catch (RuntimeException | InterruptedException e) {
            failure.compareAndSet(null, e);
        } finally {
            if (failure.get() != null) {
                onFailure.run();
                pool.shutdownNow();
                pool.awaitTermination(30, TimeUnit.SECONDS);
            }
        }
        Exception e = failure.get();
        if (e instanceof SQLException s) {
            throw s;
        }
        if (e instanceof InterruptedException ie) {
            throw ie;
        }
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e != null) {
            throw new IllegalStateException(e);
        }
    }
}
