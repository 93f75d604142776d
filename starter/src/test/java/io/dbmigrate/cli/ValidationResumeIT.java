package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.migration.StoredProgress;
import io.dbmigrate.activities.migration.ValidationBeat;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.validation.Progress;
import io.dbmigrate.cli.demo.DemoSetup;
import io.dbmigrate.cli.demo.DemoWriter;
import io.dbmigrate.cli.migrate.TemporalOptions;
import io.dbmigrate.cli.migrate.Watch;
import io.dbmigrate.cli.migrate.WorkerAnswers;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.it.ItPorts;
import io.dbmigrate.workflows.model.MigrationId;
import io.dbmigrate.workflows.model.MigrationPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: the worker killed (-9) in the middle of the migration's live validation, and a new one started with
 * {@code stack up}, as an operator would. The retried ValidateData goes on from the block ranges the dead attempt
 * saved on the target instead of reading everything again, the validation passes, and an abort leaves nothing behind.
 *
 * <p>The validation reads about 200,000 rows a second here, too fast to kill a worker in it by timing alone: the test
 * holds an ACCESS EXCLUSIVE lock on the target's copy of the table validated last ({@code shipments}, which no one
 * writes) from the start of the validation phase, so the dead attempt has finished the demo's four tables (saved on
 * the target) and waits for that one when it is killed. The lock goes before the new worker starts.
 */
class ValidationResumeIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-resume");
    // its own port block (see ItPorts); 34xxx would lie in the ephemeral range, which stack up refuses
    static final StackPorts PORT_BLOCK = ItPorts.block(22);
    static final String[] PORTS = PORT_BLOCK.asOptions().toArray(String[]::new);
    static final String DB = "dbmigrate_resume";
    /** Two of the demo's tables get 140,000+ rows: each side of them is read in several block ranges. */
    static final int ROWS = 400_000;
    /** Validated after the demo's tables (they go by name). */
    static final String GATE = "shipments";
    static final int GATE_ROWS = 20_000;
    static final int DEMO_TABLES = 4;
    static final int CHUNK_ROWS = 500;

    @BeforeAll
    static void up() {
        StackIT.cli("stack", "down", "--home", HOME.toString(), "--purge");
        StackIT.up(HOME, PORTS);
    }

    @AfterAll
    static void down() {
        StackIT.cli("stack", "down", "--home", HOME.toString());
    }

    @Test
    void workerKilledMidValidationResumesFromTheSavedBlockRanges() throws Exception {
        LocalStack stack = new LocalStack(new StackLayout(HOME, StackIT.ROOT), PORT_BLOCK, System.getProperty("java.class.path"));
        DemoSetup setup = DemoSetup.on(stack, DB, ROWS, System.out::println);
        setup.recreate();
        Pg.exec(setup.source, "it-resume", "CREATE TABLE " + GATE + " (id bigint PRIMARY KEY, carrier text NOT NULL, shipped_at timestamptz)",
                "INSERT INTO " + GATE + " SELECT g, 'carrier ' || g % 17, now() - g * interval '1 minute' FROM generate_series(1, "
                        + GATE_ROWS + ") g",
                "ANALYZE " + GATE);
        String id = "resume_" + Long.toString(System.currentTimeMillis() / 1000, 36);
        String wf = TemporalOptions.workflowId(id);
        MigrationPlan plan = setup.plan(id, "manual", null, CHUNK_ROWS);
        Path planFile = HOME.resolve("plans/" + id + ".json");
        Files.createDirectories(planFile.getParent());
        Files.writeString(planFile, new ObjectMapper().writeValueAsString(plan));

        DemoWriter writer = setup.writer(20, () -> false);
        writer.start();
        long t0 = System.nanoTime();
        StackIT.Result started = StackIT.printed("start", "--plan", planFile.toString(), "--home", HOME.toString());
        assertEquals(0, started.exit(), started.out() + started.err());

        ValidationBeat beat;
        long saved;
        long pid;
        try (Connection gate = Pg.connect(setup.target, "it-resume-gate")) {
            awaitPhase(setup, wf, "validation", t0);
            gate.setAutoCommit(false);
            try (Statement st = gate.createStatement()) {
                st.execute("LOCK TABLE " + GATE + " IN ACCESS EXCLUSIVE MODE");
            }
            System.out.printf("%.1f s: %s locked on the target%n", seconds(t0), GATE);
            beat = awaitSavedBlockRanges(setup, id, wf, t0);
            saved = savedProgress(setup, id, beat.run()).blockRangesDone();
            pid = workerPid();
            ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
            assertTrue(worker.info().commandLine().orElse("").contains("-Ddbmigrate.home=" + HOME),
                    "pid " + pid + " is not this stack's worker: " + worker.info().commandLine());
            worker.destroyForcibly(); // SIGKILL
            worker.onExit().get(10, TimeUnit.SECONDS);
            gate.rollback();
        }
        System.out.printf("%.1f s: worker %d killed mid-validation, %d block ranges saved (last heartbeat on the server: %s)%n",
                seconds(t0), pid, saved, beat);
        StackIT.up(HOME, PORTS);
        System.out.printf("%.1f s: stack up started a new worker (pid %d)%n", seconds(t0), workerPid());

        JsonNode waiting = SchemaCoverageIT.awaitState(HOME, id, Set.of("AWAITING_APPROVAL"));
        System.out.printf("%.1f s: %s%n", seconds(t0), waiting.get("validation"));
        JsonNode v = waiting.get("validation");
        List<Integer> attempts = validateDataAttempts(id);
        assertAll(waiting.toString(),
                () -> assertEquals("AWAITING_APPROVAL", waiting.get("state").asText()),
                () -> assertTrue(v.get("passed").asBoolean(), "the validation passed"),
                () -> assertTrue(v.get("blockRangesResumed").asLong() >= saved && saved > 0,
                        "the new attempt went on from the " + saved + " block ranges the killed one saved, not from scratch"),
                () -> assertTrue(v.get("blockRangesRead").asLong() > 0, "and read the ranges left"),
                () -> assertTrue(attempts.stream().anyMatch(a -> a > 1),
                        "ValidateData ran on a later attempt (attempts in history: " + attempts + ")"));

        StackIT.Result abort = StackIT.cli("abort", id, "--home", HOME.toString());
        assertEquals(0, abort.exit(), abort.out() + abort.err());
        JsonNode end = SchemaCoverageIT.awaitState(HOME, id, Set.of());
        long lost = writer.finish(false);
        System.out.printf("%.1f s: %s; %d writes acknowledged%n", seconds(t0), end.get("state"), writer.acknowledged());
        assertAll(end.toString(),
                () -> assertEquals("ROLLED_BACK", end.get("state").asText()),
                () -> assertEquals(0, lost, "acknowledged writes missing on the source"),
                () -> assertEquals(List.of(), setup.leftovers(), "dbmigrate's objects left"));
    }

    static String phase(DemoSetup setup, String wf) {
        return WorkerAnswers.status(setup.temporal, wf, WorkerAnswers.WAIT).phase().label();
    }

    static void awaitPhase(DemoSetup setup, String wf, String phase, long t0) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        String last = "";
        while (!last.equals(phase)) {
            assertTrue(System.nanoTime() < deadline, "phase " + phase + " not reached within 3 minutes; last: " + last);
            String now = phase(setup, wf);
            if (!now.equals(last)) {
                System.out.printf("%.1f s: %s%n", seconds(t0), now);
                last = now;
            }
            Thread.sleep(100);
        }
    }

    /**
     * Waits until the server holds a ValidateData heartbeat (it names the run a retry resumes) and the target holds
     * that run's progress with every table but {@link #GATE} finished; the heartbeat as it stands then.
     */
    static ValidationBeat awaitSavedBlockRanges(DemoSetup setup, String id, String wf, long t0) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        String last = "";
        while (System.nanoTime() < deadline) {
            String phase = phase(setup, wf);
            assertEquals("validation", phase, "the validation ended before the kill; " + GATE + " not validated last?");
            Optional<ValidationBeat> beat = Watch.heartbeat(WorkerAnswers.describe(setup.temporal, wf), "ValidateData",
                    ValidationBeat.class, setup.temporal.getOptions().getDataConverter());
            Progress.InMemory saved = beat.isPresent() ? savedProgress(setup, id, beat.get().run()) : new Progress.InMemory();
            long finished = saved.tables().values().stream().filter(t -> t.report() != null).count();
            String now = beat.map(Object::toString).orElse("no heartbeat") + "; saved: " + finished + " tables finished, "
                    + saved.blockRangesDone() + " block ranges read";
            if (!now.equals(last)) {
                System.out.printf("%.1f s: %s%n", seconds(t0), now);
                last = now;
            }
            if (finished == DEMO_TABLES && saved.blockRangesDone() > 0) {
                return beat.get();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the tables before " + GATE + " not saved as finished within 2 minutes: " + last);
    }

    /** The run's progress as saved on the target, in the stream's schema. */
    static Progress.InMemory savedProgress(DemoSetup setup, String id, String run) throws SQLException {
        return StoredProgress.resume(setup.target, MigrationId.objectName(id), run).state();
    }

    static long workerPid() throws Exception {
        StackIT.Result status = StackIT.cli("stack", "status", "--json", "--home", HOME.toString());
        for (JsonNode c : StackIT.lastLineJson(status.out()).get("components")) {
            if (c.get("name").asText().equals("worker")) {
                return c.get("pid").asLong();
            }
        }
        throw new AssertionError("no worker in " + status.out());
    }

    /** The attempt of each started ValidateData in the workflow's history (the server records a retried one's last). */
    static List<Integer> validateDataAttempts(String id) throws Exception {
        JsonNode history = new ObjectMapper().readTree(StackIT.cli("history", id, "--home", HOME.toString()).out());
        List<Long> scheduled = new ArrayList<>();
        List<Integer> attempts = new ArrayList<>();
        for (JsonNode e : history.get("events")) {
            JsonNode s = e.get("activityTaskScheduledEventAttributes");
            if (s != null && s.get("activityType").get("name").asText().equals("ValidateData")) {
                scheduled.add(e.get("eventId").asLong());
            }
            JsonNode st = e.get("activityTaskStartedEventAttributes");
            if (st != null && scheduled.contains(st.get("scheduledEventId").asLong())) {
                attempts.add(st.path("attempt").asInt(1));
            }
        }
        return attempts;
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
