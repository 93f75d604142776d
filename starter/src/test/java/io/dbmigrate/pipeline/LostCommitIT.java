package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.workflows.model.StreamSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A COMMIT that lands on the target while its reply is lost, then a reconnect that fails: the applier must not apply
 * that group again. The applier reaches the target through {@link PgProxy}, which lets the COMMIT of a group with data
 * reach the server, drops the reply, closes the applier's connection (leaving the server's side, and so the stream's
 * lock, held by a backend that lives on) and refuses the next connection once. Everything else (capture, drain,
 * comparison) goes to the target directly. Under a live writer, every source change is then on the target exactly
 * once: the keyless, insert-only {@code ledger} (REPLICA IDENTITY FULL) shows a group applied twice as extra rows.
 */
class LostCommitIT {
    @Test
    void aGroupWhoseCommitReplyWasLostIsNotAppliedAgain() throws Exception {
        String db = "lostcommit";
        LedgerWorkload work = new LedgerWorkload(db, 200);
        StreamSpec spec = PipelineStack.forward(db, db, LedgerWorkload.TABLES, true);
        PipelineStack.capture().prepare(spec);
        Thread writer = work.writer(5);
        try (PgProxy proxy = new PgProxy(spec.to())) {
            StreamSpec viaProxy = new StreamSpec(spec.migrationId(), spec.direction(), spec.from(),
                    proxy.endpoint(spec.to()), spec.tables(), spec.snapshot());
            try (ApplierThread applier = new ApplierThread(viaProxy, p -> {})) {
                StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
                writer.start();
                Thread.sleep(1000);
                proxy.loseNextCommitReply();
                assertTrue(proxy.awaitReplyLost(Duration.ofSeconds(30)), "no COMMIT of a group with data went through");
                Thread.sleep(2000); // the writer goes on while the applier reconnects
                work.stop(writer);
                StreamMonitor.drain(spec, null, Duration.ofSeconds(90), s -> {});
                assertNull(applier.failure());
                assertEquals(1, proxy.repliesLost());
                assertEquals(1, proxy.refused());
                work.assertSameOnBothSides();
                System.out.println("writer committed " + work.committed.get() + " transactions; one COMMIT reply lost; "
                        + applier.applier().progress());
            }
        } finally {
            work.writing.set(false);
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
