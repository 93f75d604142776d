package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `stack up --with-monitoring` without starting anything: Prometheus's configuration, ports, and the recorded choice. */
class MonitoringStackTest {
    @TempDir Path home;

    @Test
    void prometheusScrapesWorkerAndConnectEveryFiveSecondsWithTheRepositorysRules() throws Exception {
        StackLayout layout = new StackLayout(home, StackLayout.findRepoRoot(Path.of("")));
        StackContext ctx = new StackContext(layout, StackPorts.block(21));
        JsonNode conf = new ObjectMapper(new YAMLFactory()).readTree(new PrometheusComponent(ctx, true).config());
        assertEquals("5s", conf.at("/global/scrape_interval").asText());
        Path rules = Path.of(conf.at("/rule_files/0").asText());
        assertTrue(Files.isRegularFile(rules) && rules.endsWith("deploy/monitoring/alerts.yml"), rules.toString());
        assertEquals("dbmigrate-worker", conf.at("/scrape_configs/0/job_name").asText(), "alerts.yml selects the worker by this job");
        assertEquals("127.0.0.1:21464", conf.at("/scrape_configs/0/static_configs/0/targets/0").asText());
        assertEquals("127.0.0.1:21085", conf.at("/scrape_configs/1/static_configs/0/targets/0").asText());
    }

    @Test
    void monitoringIsOffUnlessAskedAndThePortsHaveTheirPlaceInTheBlock() {
        StackLayout layout = new StackLayout(home, home);
        LocalStack plain = new LocalStack(layout, StackPorts.block(21), "unused");
        assertFalse(plain.monitoring());
        assertTrue(plain.prometheusUrl().isEmpty());
        assertTrue(plain.component("prometheus").health().detail().contains("--with-monitoring"));
        StackPorts p = StackPorts.block(21);
        assertEquals(21090, p.prometheus());
        assertEquals(21085, p.connectMetrics());
        assertTrue(p.asOptions().containsAll(java.util.List.of(StackPorts.PROMETHEUS_OPTION, "21090",
                StackPorts.CONNECT_METRICS_OPTION, "21085")));
    }

    @Test
    void aStateFileWithoutTheMonitoringPortsGivesThemTheSourcesBlock() throws Exception {
        StackLayout layout = new StackLayout(home, home);
        Files.writeString(layout.stateFile(), "{\"sourcePostgres\":26432,\"targetPostgres\":26433,\"kafka\":26092,"
                + "\"kafkaController\":26093,\"connect\":26083,\"temporal\":26233,\"workerHttp\":26464,\"pgbouncer\":26643}");
        assertEquals(StackPorts.block(26), LocalStack.recordedPorts(layout, StackPorts.defaults()));
    }

    @Test
    void monitoringCannotJoinAConnectAlreadyRunningWithoutTheAgent() throws Exception {
        StackLayout layout = new StackLayout(home, home);
        StackPorts ports = StackPorts.block(21);
        Files.writeString(layout.stateFile(), new ObjectMapper().writeValueAsString(ports));
        // a stack whose connect runs (this JVM stands in for it), brought up without monitoring
        ChildProcess.writePid(layout.pidFile("connect"), ProcessHandle.current().pid());
        StackException e = assertThrows(StackException.class,
                () -> new LocalStack(layout, ports, "unused", true).up(line -> {}));
        assertTrue(e.getMessage().contains("runs without the JMX exporter") && e.getMessage().contains("`stack down` first"),
                e.getMessage());
        assertFalse(LocalStack.recordedMonitoring(layout), "nothing recorded");
    }

    @Test
    void downForgetsMonitoring() throws Exception {
        StackLayout layout = new StackLayout(home, home);
        layout.createDirectories();
        Files.writeString(layout.monitoringMarker(), "x");
        assertTrue(new LocalStack(layout, StackPorts.block(21), "unused").monitoring(), "recorded while the stack runs");
        new LocalStack(layout, StackPorts.block(21), "unused").down(false, line -> {});
        assertFalse(new LocalStack(layout, StackPorts.block(21), "unused").monitoring());
    }
}
