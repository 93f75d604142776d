package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BasicStreamIT {
    @Test
    void snapshotThenStreamThenDrain() throws Exception {
        String db = "basic";
        PipelineStack.freshDatabases(db);
        String ddl = "CREATE TABLE public.items (id bigint PRIMARY KEY, name text, qty int)";
        PipelineStack.exec(PipelineStack.source(db), ddl, "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 100) g");
        PipelineStack.exec(PipelineStack.target(db), ddl);
        StreamSpec spec = PipelineStack.forward("basic", db, List.of(new TableRef("public", "items")), true);
        PipelineStack.capture().prepare(spec);
        try (PipelineStack.RunningApplier a = new PipelineStack.RunningApplier(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            assertEquals(Compare.tableText(PipelineStack.source(db), "public.items"), Compare.tableText(PipelineStack.target(db), "public.items"));
            PipelineStack.exec(PipelineStack.source(db), "INSERT INTO items VALUES (1000, 'new', 1)",
                    "UPDATE items SET qty = qty + 1 WHERE id <= 10", "DELETE FROM items WHERE id = 50");
            String applied = StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            assertNull(a.failure());
            assertEquals(Compare.tableText(PipelineStack.source(db), "public.items"), Compare.tableText(PipelineStack.target(db), "public.items"));
            System.out.println("drained to " + applied + " " + a.applier().progress());
            assertEquals(100, a.applier().progress().snapshotRows());
            assertTrue(a.applier().progress().changes() >= 103, a.applier().progress().toString());
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
