package io.dbmigrate.activities.cutover;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The plan's PgBouncer seen as the application's traffic: paused, pointed at the plan's target, resumed. The rollback
 * after a cutover uses the same steps with the plan reversed, so "target" there is the old source.
 */
public final class Traffic {
    private Traffic() {}

    static MigrationPlan.PgBouncerOptions options(MigrationPlan plan) {
        MigrationPlan.PgBouncerOptions o = plan.cutoverOrDefault().pgbouncer();
        if (o == null) {
            throw new IllegalArgumentException("cutover.strategy pgbouncer needs cutover.pgbouncer in the plan");
        }
        return o;
    }

    /**
     * PAUSE, bounded by the plan's {@code cutover.lockTimeoutSeconds} (the time a fence may wait for in-flight
     * transactions too). PgBouncer lists a database that only a {@code *} entry covers once a client used it, so an
     * explicit entry to where it already goes is written first. An entry that points neither at the plan's source nor
     * at its target is refused: pausing it would stop an application this migration does not move.
     */
    public static PgBouncer.Drain pause(MigrationPlan plan) {
        MigrationPlan.PgBouncerOptions o = options(plan);
        try (PgBouncer b = new PgBouncer(o.admin())) {
            PgBouncer.Location at = b.where(o.database()).orElse(null);
            if (at == null) {
                b.repoint(Path.of(o.databasesFile()), o.database(), plan.source());
            } else if (!points(at, plan.source()) && !points(at, plan.target())) {
                throw new IllegalArgumentException(b.describe() + ": database " + o.database() + " goes to " + at.describe()
                        + ", which is neither the plan's source (" + plan.source().describe() + ") nor its target: fix "
                        + "cutover.pgbouncer.database or the entry in " + o.databasesFile());
            }
            return b.pause(o.database(), Duration.ofSeconds(plan.cutoverOrDefault().lockTimeoutSeconds()));
        }
    }

    /** Points the database at the plan's target; idempotent. Returns whether anything changed. */
    public static boolean repoint(MigrationPlan plan) {
        MigrationPlan.PgBouncerOptions o = options(plan);
        try (PgBouncer b = new PgBouncer(o.admin())) {
            return b.repoint(Path.of(o.databasesFile()), o.database(), plan.target());
        }
    }

    /**
     * RESUME; returns the longest time a client had been waiting just before (clients queue for the whole pause, so
     * the one waiting longest now waited longest of all). Resuming a database that is not paused is not an error.
     */
    public static long resume(MigrationPlan plan) {
        MigrationPlan.PgBouncerOptions o = options(plan);
        try (PgBouncer b = new PgBouncer(o.admin())) {
            long waited = b.paused(o.database()) ? b.maxClientWaitMs(o.database()) : 0;
            b.resume(o.database());
            return waited;
        }
    }

    /** Reachable, and its databases file writable: what preflight checks before the strategy is relied on. */
    public static String check(MigrationPlan plan) {
        MigrationPlan.PgBouncerOptions o = options(plan);
        Path file = Path.of(o.databasesFile());
        if (!java.nio.file.Files.isWritable(file)) {
            throw new IllegalArgumentException("PgBouncer's databases file " + file + " is missing or not writable by the "
                    + "worker: the switch rewrites it (cutover.pgbouncer.databasesFile)");
        }
        try (PgBouncer b = new PgBouncer(o.admin())) {
            return b.describe() + " " + b.version();
        }
    }

    private static boolean points(PgBouncer.Location at, Endpoint e) {
        return at.port() == e.port() && at.host().equals(e.host()) && (at.dbname() == null || at.dbname().isEmpty()
                || at.dbname().equals(e.database()));
    }
}
