package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The resilience tests' workload: transfers between accounts, each source transaction two balance updates and two
 * rows in a keyless, insert-only ledger (REPLICA IDENTITY FULL), so a transaction applied twice shows as extra
 * ledger rows and a lost one as missing rows or a wrong balance.
 */
final class LedgerWorkload {
    static final List<TableRef> TABLES = List.of(new TableRef("public", "acct"), new TableRef("public", "ledger"));

    final String db;
    final int accounts;
    final AtomicBoolean writing = new AtomicBoolean(true);
    final AtomicLong committed = new AtomicLong();

    /** Fresh databases, the tables on both sides and {@code accounts} accounts on the source. */
    LedgerWorkload(String db, int accounts) throws Exception {
        this.db = db;
        this.accounts = accounts;
        PipelineStack.freshDatabases(db);
        String[] ddl = {
            "CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL, note text)",
            "CREATE TABLE ledger (acct int, delta bigint, at timestamptz)",
            "ALTER TABLE ledger REPLICA IDENTITY FULL"
        };
        PipelineStack.exec(PipelineStack.source(db), ddl);
        PipelineStack.exec(PipelineStack.target(db), ddl);
        PipelineStack.exec(PipelineStack.source(db),
                "INSERT INTO acct SELECT g, 1000, 'n' FROM generate_series(1, " + accounts + ") g");
    }

    /** A thread that writes one transfer at a time, pausing {@code pauseMs} between them, until {@link #stop}. */
    Thread writer(long pauseMs) {
        return new Thread(() -> {
            try (Connection c = Pg.connect(PipelineStack.source(db), "it-writer")) {
                c.setAutoCommit(false);
                PreparedStatement move = c.prepareStatement("UPDATE acct SET balance = balance + ?, note = ? WHERE id = ?");
                PreparedStatement log = c.prepareStatement("INSERT INTO ledger VALUES (?, ?, clock_timestamp())");
                while (writing.get()) {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    long amount = r.nextLong(1, 50);
                    int[] legs = {r.nextInt(1, accounts + 1), r.nextInt(1, accounts + 1)};
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
                    Thread.sleep(pauseMs);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "writer");
    }

    void stop(Thread writer) throws InterruptedException {
        writing.set(false);
        writer.join();
    }

    /** Both tables equal on source and target, row for row. */
    void assertSameOnBothSides() throws Exception {
        for (TableRef t : TABLES) {
            List<String> src = Compare.tableText(PipelineStack.source(db), t.toString());
            List<String> tgt = Compare.tableText(PipelineStack.target(db), t.toString());
            assertTrue(src.equals(tgt), () -> t + " differs: " + Compare.diff(src, tgt));
        }
    }
}
