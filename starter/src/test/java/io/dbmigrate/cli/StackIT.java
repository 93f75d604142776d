package io.dbmigrate.cli;

import io.dbmigrate.it.ItPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.deploy.EphemeralPorts;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Starts the real local stack through the CLI, checks every component's protocol, stops it, and looks for leftovers. */
class StackIT {
    static final Path ROOT = StackLayout.findRepoRoot(Path.of(""));
    static final Path HOME = ROOT.resolve("starter/target/it-stack");
    // Each test stack has a block of its own (StackIT 26xxx, DemoIT 27xxx, PipelineStack 28xxx), away from the
    // defaults (25xxx) so a developer's running stack is not disturbed, and below the ephemeral port range.
    static final StackPorts PORT_BLOCK = ItPorts.block(26);
    static final String[] PORTS = PORT_BLOCK.asOptions().toArray(String[]::new);

    record Result(int exit, String out, String err) {}

    static synchronized Result cli(String... args) {
        System.setProperty("dbmigrate.root", ROOT.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    static String[] with(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    /** {@code stack up} in {@code home} on {@code ports}; the calling test fails when the stack does not come up. */
    static void up(Path home, String[] ports) {
        Result r = cli(with(new String[] {"stack", "up", "--home", home.toString()}, ports));
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    /** A command whose progress (stderr) and result (stdout) belong in the test's log. */
    static Result printed(String... args) {
        Result r = cli(args);
        System.out.println(r.err());
        System.out.println(r.out());
        return r;
    }

    static JsonNode lastLineJson(String out) throws Exception {
        String[] lines = out.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    @AfterAll
    static void stopEverything() {
        cli("stack", "down", "--home", HOME.toString(), "--purge");
    }

    @Test
    void upStatusDownLeavesNothingRunning() throws Exception {
        cli("stack", "down", "--home", HOME.toString(), "--purge");

        // A port inside the kernel's ephemeral range is refused before anything starts, naming the option to change.
        EphemeralPorts range = EphemeralPorts.read();
        StackPorts b = PORT_BLOCK;
        StackPorts inRange = new StackPorts(b.sourcePostgres(), b.targetPostgres(), b.kafka(), b.kafkaController(),
                b.connect(), b.temporal(), range.first() + 100);
        Result refused = cli(with(new String[] {"stack", "up", "--home", HOME.toString()},
                inRange.asOptions().toArray(String[]::new)));
        assertEquals(1, refused.exit(), refused.out() + refused.err());
        assertTrue(refused.err().contains("worker: port " + (range.first() + 100) + " lies in the kernel's ephemeral port range "
                + range + " ") && refused.err().contains("choose a port below " + range.first() + " with --worker-port"),
                refused.err());
        assertNothingRuns();

        // A port another process holds is refused before anything starts, naming the component, the port and the
        // process (here this JVM).
        Result failed;
        int workerPort = PORT_BLOCK.workerHttp();
        try (ServerSocket squatter = new ServerSocket(workerPort, 1, InetAddress.getLoopbackAddress())) {
            failed = cli(with(new String[] {"stack", "up", "--home", HOME.toString()}, PORTS));
        }
        assertEquals(1, failed.exit(), failed.out() + failed.err());
        assertTrue(failed.err().contains("worker cannot start: port " + workerPort + " on 127.0.0.1 is taken by pid "
                + ProcessHandle.current().pid() + " ("), failed.err());
        assertTrue(failed.err().contains("choose another port with --worker-port"), failed.err());
        assertNothingRuns();

        Result up = cli(with(new String[] {"stack", "up", "--home", HOME.toString(), "--json"}, PORTS));
        assertEquals(0, up.exit(), up.out() + up.err());

        // up is idempotent: the components it started hold their own ports, which are not conflicts.
        Result again = cli(with(new String[] {"stack", "up", "--home", HOME.toString(), "--json"}, PORTS));
        assertEquals(0, again.exit(), again.out() + again.err());
        assertEquals(pidsOf(lastLineJson(up.out())), pidsOf(lastLineJson(again.out())));

        Result status = cli("stack", "status", "--json", "--home", HOME.toString());
        assertEquals(0, status.exit(), status.out());
        JsonNode json = lastLineJson(status.out());
        assertTrue(json.get("healthy").asBoolean());
        // Prometheus is optional and off without --with-monitoring: listed, skipped, holding no process
        JsonNode prometheus = StreamSupport.stream(json.get("components").spliterator(), false)
                .filter(c -> c.get("name").asText().equals("prometheus")).findFirst().orElseThrow();
        assertTrue(prometheus.get("pid").isNull() && prometheus.get("detail").asText().startsWith("skipped (optional)"),
                prometheus.toString());
        Set<String> names = StreamSupport.stream(json.get("components").spliterator(), false)
                .filter(c -> !c.get("pid").isNull()).map(c -> c.get("name").asText()).collect(Collectors.toSet());
        Set<String> expected = new java.util.HashSet<>(Set.of("source-postgres", "target-postgres", "kafka", "connect", "temporal", "worker"));
        if (DemoIT.PGBOUNCER) {
            expected.add("pgbouncer"); // CI installs it; the stack runs it in front of the source
        }
        assertEquals(expected, names);
        List<Long> pids = new ArrayList<>();
        for (JsonNode c : json.get("components")) {
            assertTrue(c.get("healthy").asBoolean(), c.toString());
            if (expected.contains(c.get("name").asText())) {
                pids.add(c.get("pid").asLong());
            }
        }
        String details = json.get("components").toString();
        assertTrue(details.contains("wal_level=logical"), details);
        assertTrue(details.contains("io.debezium.connector.postgresql.PostgresConnector"), details);
        assertTrue(details.contains("GetSystemInfo ok"), details);
        assertTrue(details.contains("\\\"status\\\":\\\"UP\\\""), details);
        if (DemoIT.PGBOUNCER) {
            assertTrue(details.contains("admin console answers"), details);
        }

        Result logs = cli("stack", "logs", "kafka", "-n", "5", "--home", HOME.toString());
        assertEquals(0, logs.exit());
        assertTrue(logs.out().contains("kafka.log"), logs.out());

        Result down = cli("stack", "down", "--home", HOME.toString());
        assertEquals(0, down.exit(), down.err());
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " still alive");
        }
        Result after = cli("stack", "status", "--json", "--home", HOME.toString());
        assertEquals(1, after.exit());
        assertFalse(lastLineJson(after.out()).get("healthy").asBoolean());
    }

    static void assertNothingRuns() throws Exception {
        Result status = cli("stack", "status", "--json", "--home", HOME.toString());
        for (JsonNode c : lastLineJson(status.out()).get("components")) {
            String detail = c.get("detail").asText();
            // an optional component that is off reports why it is skipped rather than "not running"
            assertTrue(c.get("pid").isNull() && ("not running".equals(detail) || detail.startsWith("skipped (optional)")),
                    c.toString());
        }
    }

    static List<Long> pidsOf(JsonNode status) {
        List<Long> pids = new ArrayList<>();
        for (JsonNode c : status.get("components")) {
            pids.add(c.get("pid").asLong());
        }
        return pids;
    }
}
