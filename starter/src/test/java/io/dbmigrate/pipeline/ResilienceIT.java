package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.deploy.ChildProcess;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.workflows.model.StreamSpec;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        LedgerWorkload work = new LedgerWorkload(db, 500);
        StreamSpec spec = PipelineStack.forward("resilience", db, LedgerWorkload.TABLES, true);
        PipelineStack.capture().prepare(spec);
        LocalStack stack = PipelineStack.get();
        Path specFile = Files.createTempFile("spec", ".json");
        Files.writeString(specFile, new ObjectMapper().writeValueAsString(spec));
        Thread writer = work.writer(2);
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
            work.stop(writer);
            StreamMonitor.drain(spec, null, Duration.ofSeconds(180), s -> {});
            assertTrue(applier.isAlive(), "applier died: see " + logOf("2"));
            assertTrue(work.committed.get() > 100, "the writer committed only " + work.committed.get());
            work.assertSameOnBothSides();
            System.out.println("writer committed " + work.committed.get() + " transactions across kill -9, Connect and Kafka restarts");
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            work.writing.set(false);
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
