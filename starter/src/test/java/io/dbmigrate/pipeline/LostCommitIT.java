package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
        PipelineStack.freshDatabases(db);
        String[] ddl = {
            "CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL, note text)",
            "CREATE TABLE ledger (acct int, delta bigint, at timestamptz)",
            "ALTER TABLE ledger REPLICA IDENTITY FULL"
        };
        PipelineStack.exec(PipelineStack.source(db), ddl);
        PipelineStack.exec(PipelineStack.target(db), ddl);
        PipelineStack.exec(PipelineStack.source(db), "INSERT INTO acct SELECT g, 1000, 'n' FROM generate_series(1, 200) g");
        StreamSpec spec = PipelineStack.forward(db, db,
                List.of(new TableRef("public", "acct"), new TableRef("public", "ledger")), true);
        PipelineStack.capture().prepare(spec);
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong committed = new AtomicLong();
        Thread writer = new Thread(() -> write(db, writing, committed), "writer");
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
                writing.set(false);
                writer.join();
                StreamMonitor.drain(spec, null, Duration.ofSeconds(90), s -> {});
                assertNull(applier.failure());
                assertEquals(1, proxy.repliesLost());
                assertEquals(1, proxy.refused());
                for (String t : List.of("public.ledger", "public.acct")) {
                    List<String> src = Compare.tableText(PipelineStack.source(db), t);
                    List<String> tgt = Compare.tableText(PipelineStack.target(db), t);
                    assertTrue(src.equals(tgt), () -> t + " differs: " + Compare.diff(src, tgt));
                }
                System.out.println("writer committed " + committed.get() + " transactions; one COMMIT reply lost; "
                        + applier.applier().progress());
            }
        } finally {
            writing.set(false);
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /** Transfers between accounts, each with two ledger rows, one source transaction at a time. */
    private static void write(String db, AtomicBoolean writing, AtomicLong committed) {
        try (Connection c = Pg.connect(PipelineStack.source(db), "it-writer")) {
            c.setAutoCommit(false);
            PreparedStatement move = c.prepareStatement("UPDATE acct SET balance = balance + ?, note = ? WHERE id = ?");
            PreparedStatement log = c.prepareStatement("INSERT INTO ledger VALUES (?, ?, clock_timestamp())");
            while (writing.get()) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                long amount = r.nextLong(1, 50);
                int[] legs = {r.nextInt(1, 201), r.nextInt(1, 201)};
                for (int i = 0; i < 2; i++) {
                    long delta = i == 0 ? -amount : amount;
                    move.setLong(1, delta);
                    move.setString(2, "tx" + committed.get());
                    move.setInt(3, legs[i]);
                    move.executeUpdate();
                    log.setInt(1, legs[i]);
                    log.setLong(2, delta);
                    log.executeUpdate();
                }
                c.commit();
                committed.incrementAndGet();
                Thread.sleep(5);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
