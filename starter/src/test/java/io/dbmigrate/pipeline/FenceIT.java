package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.migration.Fence;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The write fence against applications that write several tables per transaction (the source is a real cluster). */
class FenceIT {

    /**
     * Reproduces the demo's deadlock: an application transaction holds one table and then writes another that the
     * fence already holds. Before, PostgreSQL broke it after deadlock_timeout (1 s) by aborting one side; now the
     * fence lets go within its attempt timeout and the application's transaction commits.
     */
    @Test
    void aWriterHoldingOneTableIsNeitherDeadlockedNorAborted() throws Exception {
        String db = "fence";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), "CREATE TABLE parent (id int PRIMARY KEY)", "CREATE TABLE child (id int PRIMARY KEY)");
        MigrationPlan plan = new MigrationPlan("fence", PipelineStack.source(db), PipelineStack.target(db), List.of("public"),
                null, null, "auto", null, null, null);
        List<TableRef> tables = List.of(new TableRef("public", "parent"), new TableRef("public", "child"));
        try (Connection app = Pg.connect(PipelineStack.source(db), "app"); Statement w = app.createStatement()) {
            app.setAutoCommit(false);
            w.execute("INSERT INTO child VALUES (1)"); // holds child
            CompletableFuture<String> fence = CompletableFuture.supplyAsync(() -> {
                try {
                    return Fence.set(plan, tables, 10);
                } catch (SQLException e) {
                    throw new IllegalStateException(e.getSQLState() + " " + e.getMessage(), e);
                }
            });
            awaitFenceWaiting(db);
            long t0 = System.nanoTime();
            w.execute("INSERT INTO parent VALUES (1)"); // the table the fence locked first
            app.commit();
            long writerMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(writerMs < 500, "the application waited " + writerMs + " ms (deadlock_timeout is 1,000)");
            assertNotNull(fence.get(10, TimeUnit.SECONDS));
        }
        SQLException refused = assertThrows(SQLException.class,
                () -> PipelineStack.exec(PipelineStack.source(db), "INSERT INTO parent VALUES (2)"));
        assertEquals(Fence.SQLSTATE, refused.getSQLState());
        assertEquals(List.of("public.child", "public.parent"), Fence.remove(plan).stream().sorted().toList());
        PipelineStack.exec(PipelineStack.source(db), "INSERT INTO parent VALUES (2)");
    }

    /** Until the fence's session waits for a lock (it holds parent by then), at most 2 s. */
    private static void awaitFenceWaiting(String db) throws Exception {
        try (Connection c = Pg.connect(PipelineStack.source(db), "fence-it")) {
            for (int i = 0; i < 400; i++) {
                if (Pg.exists(c, """
                        SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE NOT l.granted AND a.application_name = ?""", "dbmigrate-fence")) {
                    return;
                }
                Thread.sleep(5);
            }
        }
    }
}
