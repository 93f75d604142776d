package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.impl.PipelineActivitiesImpl;
import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.activities.PipelineActivities;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A connector that fails the same way again and again ends the applier activity non-retryably with the connector's own
 * cause and its fix, instead of restarting forever while the migration shows RUNNING: a row larger than the stream's
 * record limit (a small limits.maxRecordBytes keeps the test cheap).
 */
class CaptureFailedIT {
    @Test
    void aRowLargerThanTheRecordLimitEndsTheStreamWithItsCause() throws Exception {
        String db = "capfail";
        PipelineStack.freshDatabases(db);
        for (var e : List.of(PipelineStack.source(db), PipelineStack.target(db))) {
            PipelineStack.exec(e, "CREATE TABLE items (id int PRIMARY KEY, v text)");
        }
        StreamSpec base = PipelineStack.forward(db, db, List.of(new TableRef("public", "items")), false);
        StreamSpec spec = new StreamSpec(base.migrationId(), base.direction(), base.from(), base.to(), base.tables(), false,
                256L * 1024);
        TestActivityEnvironment env = TestActivityEnvironment.newInstance();
        try {
            PipelineStack.capture().prepare(spec);
            env.registerActivitiesImplementations(new PipelineActivitiesImpl(PipelineStack.bootstrap(),
                    "http://127.0.0.1:" + PipelineStack.PORTS.connect(), new SimpleMeterRegistry()));
            PipelineActivities activities = env.newActivityStub(PipelineActivities.class, ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofMinutes(10)).setHeartbeatTimeout(Duration.ofSeconds(60)).build());
            CompletableFuture<Void> run = CompletableFuture.runAsync(() -> activities.runApplier(spec));
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            PipelineStack.exec(spec.from(), "INSERT INTO items VALUES (1, 'small')");
            StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            // 300,000 characters of text: about 300 KB as JSON, above the 256 KiB limit
            PipelineStack.exec(spec.from(), "INSERT INTO items SELECT 2, string_agg(md5(g::text), '') FROM generate_series(1, 9375) g");
            long started = System.nanoTime();
            ExecutionException ended = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> run.get(5, TimeUnit.MINUTES), "the stream did not end");
            System.out.printf("capture failed after %.1f s%n", (System.nanoTime() - started) / 1e9);
            assertTrue(ended.getCause() instanceof ActivityFailure, ended.getCause().toString());
            ApplicationFailure af = (ApplicationFailure) ended.getCause().getCause();
            assertEquals("CaptureFailed", af.getType());
            assertTrue(af.isNonRetryable(), "a retry would only restart the same failure");
            String m = af.getOriginalMessage();
            assertTrue(m.contains("RecordTooLargeException") && m.contains("max.request.size"), m);
            assertTrue(m.contains("limits.maxRecordBytes = 262144"), m);
            assertTrue(!m.contains("\tat "), "no stack frames: " + m);
            // what came before the record is applied; the record itself is not, nothing after it is skipped over
            try (var c = Pg.connect(spec.to(), "it")) {
                assertEquals("1", Pg.one(c, "SELECT string_agg(id::text, ',') FROM items"));
            }
        } finally {
            env.close();
            PipelineStack.capture().teardown(spec);
            PipelineStack.exec(spec.to(), "DROP SCHEMA IF EXISTS dbmigrate_" + spec.migrationId() + " CASCADE");
        }
        PipelineStack.assertNoLeftovers(db);
    }
}
