package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.deploy.ChildProcess;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Under a live workload: kill -9 of the applier mid-stream, then a restart of Kafka Connect, then of Kafka itself.
 * Afterwards both sides are equal: nothing lost, nothing applied twice (an insert-only table without a key would
 * show any duplicate as an extra row).
 */
class ResilienceIT {
    @Test
    void killAndRestartsUnderLoad() throws Exception {
        String db = "resilience";
        PipelineStack.freshDatabases(db);
        String[] ddl = {
            "CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL, note text)",
            "CREATE TABLE ledger (acct int, delta bigint, at timestamptz)",
            "ALTER TABLE ledger REPLICA IDENTITY FULL"
        };
        PipelineStack.exec(PipelineStack.source(db), ddl);
        PipelineStack.exec(PipelineStack.target(db), ddl);
        PipelineStack.exec(PipelineStack.source(db), "INSERT INTO acct SELECT g, 1000, 'n' FROM generate_series(1, 500) g");
        StreamSpec spec = PipelineStack.forward("resilience", db,
                List.of(new TableRef("public", "acct"), new TableRef("public", "ledger")), true);
        PipelineStack.capture().prepare(spec);
        LocalStack stack = PipelineStack.get();
        Path specFile = Files.createTempFile("spec", ".json");
        Files.writeString(specFile, new ObjectMapper().writeValueAsString(spec));

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong committed = new AtomicLong();
        Thread writer = new Thread(() -> {
            try (Connection c = Pg.connect(PipelineStack.source(db), "it-writer")) {
                c.setAutoCommit(false);
                PreparedStatement move = c.prepareStatement("UPDATE acct SET balance = balance + ?, note = ? WHERE id = ?");
                PreparedStatement log = c.prepareStatement("INSERT INTO ledger VALUES (?, ?, now())");
                while (writing.get()) {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    int from = r.nextInt(1, 501);
                    int to = r.nextInt(1, 501);
                    long amount = r.nextLong(1, 50);
                    for (Object[] leg : new Object[][] {{from, -amount}, {to, amount}}) {
                        move.setLong(1, (Long) leg[1]);
                        move.setString(2, "tx" + committed.get());
                        move.setInt(3, (Integer) leg[0]);
                        move.executeUpdate();
                        log.setInt(1, (Integer) leg[0]);
                        log.setLong(2, (Long) leg[1]);
                        log.executeUpdate();
                    }
                    c.commit();
                    committed.incrementAndGet();
                    Thread.sleep(2);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "writer");
        Process applier = startApplier(specFile, "1");
        Throwable failure = null;
        try {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            writer.start();
            Thread.sleep(3000);
            applier.destroyForcibly(); // kill -9
            applier.waitFor();
            Thread.sleep(1000);
            applier = startApplier(specFile, "2");
            Thread.sleep(3000);
            stack.component("connect").stop();
            stack.component("connect").start();
            Thread.sleep(3000);
            stack.component("kafka").stop();
            Thread.sleep(2000);
            stack.component("kafka").start();
            Thread.sleep(5000);
            writing.set(false);
            writer.join();
            StreamMonitor.drain(spec, null, Duration.ofSeconds(180), s -> {});
            assertTrue(applier.isAlive(), "applier died: see " + logOf("2"));
            assertTrue(committed.get() > 100, "the writer committed only " + committed.get());
            for (String t : List.of("public.ledger", "public.acct")) {
                List<String> src = Compare.tableText(PipelineStack.source(db), t);
                List<String> tgt = Compare.tableText(PipelineStack.target(db), t);
                assertTrue(src.equals(tgt), () -> t + " differs: " + Compare.diff(src, tgt));
            }
            System.out.println("writer committed " + committed.get() + " transactions across kill -9, Connect and Kafka restarts");
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            writing.set(false);
            applier.destroyForcibly();
            try {
                if (failure == null || !Boolean.getBoolean("dbmigrate.it.keepStack")) {
                    PipelineStack.capture().teardown(spec);
                }
            } catch (RuntimeException e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e); // keep the test's own failure visible
            }
        }
        PipelineStack.assertNoLeftovers(db);
    }

    static File logOf(String n) {
        return PipelineStack.ROOT.resolve("starter/target/applier-" + n + ".log").toFile();
    }

    static Process startApplier(Path specFile, String n) throws Exception {
        return new ProcessBuilder(ChildProcess.javaExecutable(), "-cp", System.getProperty("java.class.path"),
                ApplierProcess.class.getName(), specFile.toString(), PipelineStack.bootstrap(),
                "http://127.0.0.1:" + PipelineStack.PORTS.connect())
                .redirectErrorStream(true).redirectOutput(logOf(n)).start();
    }
}
