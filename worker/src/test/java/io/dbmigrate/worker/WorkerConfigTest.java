package io.dbmigrate.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerConfigTest {

    private static Map<String, String> validEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("DBMIGRATE_TEMPORAL_TARGET", "127.0.0.1:7233");
        env.put("DBMIGRATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
        env.put("DBMIGRATE_CONNECT_URL", "http://127.0.0.1:8083");
        return env;
    }

    @Test
    void readsEnvironmentWithDefaults() {
        WorkerConfig c = WorkerConfig.load(validEnv());
        assertEquals("127.0.0.1:7233", c.temporalTarget());
        assertEquals("default", c.namespace());
        assertEquals("dbmigrate", c.taskQueue());
        assertEquals(9464, c.httpPort());
        assertEquals("127.0.0.1", c.httpBind());
        assertTrue(c.stickyExecution(), "a real Temporal server redispatches from a dead worker's sticky queue");
        assertEquals(java.nio.file.Path.of("reports").toAbsolutePath(), c.reportDir(), "under the working directory");
    }

    @Test
    void theValidationReportsGoWhereDbmigrateReportDirSays() {
        Map<String, String> env = validEnv();
        env.put("DBMIGRATE_REPORT_DIR", "/srv/dbmigrate/reports");
        assertEquals(java.nio.file.Path.of("/srv/dbmigrate/reports"), WorkerConfig.load(env).reportDir());
    }

    /** The local stack's test server does not: without sticky execution the worker asks for no sticky queue. */
    @Test
    void stickyExecutionCanBeTurnedOffAndTheWorkerThenAsksForNoStickyQueue() {
        Map<String, String> env = validEnv();
        env.put("DBMIGRATE_STICKY_EXECUTION", "false");
        WorkerConfig c = WorkerConfig.load(env);
        assertEquals(false, c.stickyExecution());
        assertEquals(java.time.Duration.ZERO, WorkerMain.workerOptions(c).getStickyQueueScheduleToStartTimeout());
        // watch reads progress from the server's copy of the heartbeat: it must reach the server within seconds
        assertEquals(java.time.Duration.ofSeconds(5), WorkerMain.workerOptions(c).getMaxHeartbeatThrottleInterval());
        assertEquals(java.time.Duration.ofSeconds(5), WorkerMain.workerOptions(c).getDefaultHeartbeatThrottleInterval());
        env.put("DBMIGRATE_STICKY_EXECUTION", "no");
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class, () -> WorkerConfig.load(env));
        assertTrue(e.getMessage().contains("DBMIGRATE_STICKY_EXECUTION (sticky.execution) must be true or false, got 'no'"),
                e.getMessage());
    }

    @Test
    void reportsEveryMissingSettingByName() {
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class, () -> WorkerConfig.load(Map.of()));
        assertEquals(3, e.problems().size());
        assertTrue(e.getMessage().contains("DBMIGRATE_TEMPORAL_TARGET (temporal.target) is required"), e.getMessage());
        assertTrue(e.getMessage().contains("DBMIGRATE_KAFKA_BOOTSTRAP (kafka.bootstrap) is required"), e.getMessage());
        assertTrue(e.getMessage().contains("DBMIGRATE_CONNECT_URL (connect.url) is required"), e.getMessage());
    }

    @Test
    void rejectsMalformedValuesNamingTheSetting() {
        Map<String, String> env = validEnv();
        env.put("DBMIGRATE_TEMPORAL_TARGET", "localhost");
        env.put("DBMIGRATE_HTTP_PORT", "99999");
        env.put("DBMIGRATE_CONNECT_URL", "ftp://x");
        env.put("DBMIGRATE_KAFKA_BOOTSTRAP", "a:1,b");
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class, () -> WorkerConfig.load(env));
        assertEquals(4, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("DBMIGRATE_TEMPORAL_TARGET (temporal.target) must be host:port"));
        assertTrue(e.getMessage().contains("DBMIGRATE_HTTP_PORT (http.port) must be 1-65535, got 99999"));
        assertTrue(e.getMessage().contains("DBMIGRATE_CONNECT_URL (connect.url) must be an http(s) URL"));
        assertTrue(e.getMessage().contains("DBMIGRATE_KAFKA_BOOTSTRAP (kafka.bootstrap) must be host:port"));
    }

    @Test
    void rejectsNonNumericPort() {
        Map<String, String> env = validEnv();
        env.put("DBMIGRATE_HTTP_PORT", "ninety");
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class, () -> WorkerConfig.load(env));
        assertTrue(e.getMessage().contains("DBMIGRATE_HTTP_PORT (http.port) must be a number, got 'ninety'"));
    }

    @Test
    void fileSuppliesSettingsAndEnvironmentWins(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("worker.properties");
        Files.writeString(f, "temporal.target=temporal:7233\nkafka.bootstrap=kafka:9092\nconnect.url=http://connect:8083\ntask.queue=q1\n");
        Map<String, String> env = new HashMap<>();
        env.put("DBMIGRATE_CONFIG", f.toString());
        env.put("DBMIGRATE_TASK_QUEUE", "q2");
        WorkerConfig c = WorkerConfig.load(env);
        assertEquals("temporal:7233", c.temporalTarget());
        assertEquals("q2", c.taskQueue());
    }

    @Test
    void unknownSettingInFileIsAnError(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("worker.properties");
        Files.writeString(f, "temporal.targte=temporal:7233\n");
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class,
                () -> WorkerConfig.load(Map.of("DBMIGRATE_CONFIG", f.toString())));
        assertTrue(e.getMessage().contains("unknown setting 'temporal.targte'"), e.getMessage());
    }

    @Test
    void missingFileIsAnError() {
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class,
                () -> WorkerConfig.load(Map.of("DBMIGRATE_CONFIG", "/nonexistent/worker.properties")));
        assertTrue(e.getMessage().contains("DBMIGRATE_CONFIG=/nonexistent/worker.properties: cannot read"));
    }

    /** In a container the probes and the scrape come from outside the pod's loopback: the worker can listen on all. */
    @Test
    void httpBindAddressIsASetting() throws Exception {
        Map<String, String> env = validEnv();
        env.put("DBMIGRATE_HTTP_BIND", "0.0.0.0");
        try (var free = new java.net.ServerSocket(0)) {
            env.put("DBMIGRATE_HTTP_PORT", Integer.toString(free.getLocalPort()));
        }
        WorkerConfig c = WorkerConfig.load(env);
        assertEquals("0.0.0.0", c.httpBind());
        var http = WorkerMain.startHttp(c, null, new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
        try {
            assertTrue(http.getAddress().getAddress().isAnyLocalAddress(), http.getAddress().toString());
        } finally {
            http.stop(0);
        }
        env.put("DBMIGRATE_HTTP_BIND", "0.0.0.0/0");
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class, () -> WorkerConfig.load(env));
        assertTrue(e.getMessage().contains("DBMIGRATE_HTTP_BIND (http.bind) must be an address or host name"), e.getMessage());
        assertTrue(WorkerConfig.environmentNames().contains("DBMIGRATE_HTTP_BIND"));
    }

    /** No key: no codec, as before. A key reference is resolved and checked at start, the key never echoed. */
    @Test
    void codecKeyIsAReferenceToA32ByteKeyCheckedAtStart(@TempDir Path dir) throws Exception {
        assertTrue(WorkerConfig.load(validEnv()).codecKeys().isEmpty());

        String key = io.dbmigrate.workflows.codec.CodecKeys.generate();
        Path file = dir.resolve("codec-key");
        Files.writeString(file, key + "\n"); // as `openssl rand -base64 32 > FILE` writes it
        Map<String, String> env = validEnv();
        env.put("DBMIGRATE_CODEC_KEY", "file:" + file);
        WorkerConfig c = WorkerConfig.load(env);
        assertEquals(io.dbmigrate.workflows.codec.CodecKeys.parse(key, "k").currentId(), c.codecKeys().orElseThrow().currentId());
        assertTrue(!c.toString().contains(key), c.toString());

        env.put("DBMIGRATE_CODEC_KEY", "env:MY_CODEC_KEY");
        env.put("MY_CODEC_KEY", "c2hvcnQ=");
        env.put("DBMIGRATE_CODEC_AUTH", "env:MY_TOKEN");
        env.put("DBMIGRATE_CODEC_CORS_ORIGINS", "http://localhost:8080, http://ui.example/path");
        WorkerConfig.ConfigException e = assertThrows(WorkerConfig.ConfigException.class, () -> WorkerConfig.load(env));
        assertEquals(3, e.problems().size(), e.getMessage());
        assertTrue(e.problems().get(0).startsWith("DBMIGRATE_CODEC_KEY (codec.key) env:MY_CODEC_KEY: line 1"), e.getMessage());
        assertTrue(e.problems().get(1).contains("environment variable MY_TOKEN is not set"), e.getMessage());
        assertTrue(e.problems().get(2).contains("'http://ui.example/path' is not an origin"), e.getMessage());
        assertTrue(!e.getMessage().contains("c2hvcnQ="), "the key text is not echoed");

        env.put("MY_CODEC_KEY", key);
        env.put("MY_TOKEN", "s3cret-token");
        env.put("DBMIGRATE_CODEC_CORS_ORIGINS", "http://localhost:8080,https://temporal.example.com");
        c = WorkerConfig.load(env);
        assertEquals("s3cret-token", c.codecAuthToken().orElseThrow());
        assertEquals(java.util.List.of("http://localhost:8080", "https://temporal.example.com"), c.codecCorsOrigins());
        assertTrue(!c.toString().contains("s3cret-token"), c.toString());
    }
}
