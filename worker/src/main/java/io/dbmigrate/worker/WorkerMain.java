package io.dbmigrate.worker;

import com.sun.net.httpserver.HttpServer;
import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.dbmigrate.workflows.codec.Codecs;
import io.dbmigrate.workflows.codec.EncryptionCodec;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker process: validates its configuration, polls its task queue, serves /health and /metrics, and with a codec
 * key /codec/encode and /codec/decode.
 */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    public static void main(String[] args) throws Exception {
        WorkerConfig config;
        try {
            config = WorkerConfig.load(System.getenv());
        } catch (WorkerConfig.ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        Scope temporalMetrics = new RootScopeBuilder()
                .reporter(new MicrometerClientStatsReporter(registry))
                .reportEvery(com.uber.m3.util.Duration.ofSeconds(5));

        WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                .setTarget(config.temporalTarget())
                .setMetricsScope(temporalMetrics)
                .build());
        WorkflowClient client = WorkflowClient.newInstance(service, Codecs.install(
                WorkflowClientOptions.newBuilder().setNamespace(config.namespace()), config.codecKeys()).build());
        WorkerFactory factory = WorkerFactory.newInstance(client);
        Worker worker = factory.newWorker(config.taskQueue(), workerOptions(config));
        Registrations.register(worker, client, config, registry);
        factory.start();
        HttpServer http = startHttp(config, service, registry);
        log.info("dbmigrate worker polling task queue '{}' on {} (namespace {}, sticky execution {}); metrics on {}:{}/metrics;"
                + " payload codec {}", config.taskQueue(), config.temporalTarget(), config.namespace(), config.stickyExecution(),
                config.httpBind(), config.httpPort(), config.codecKeys().map(k -> "on, encrypting with key " + k.currentId())
                        .orElse("off (payloads stored in plain JSON)"));

        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutting down: letting running activities see cancellation");
            http.stop(0);
            factory.shutdown();
            factory.awaitTermination(20, TimeUnit.SECONDS);
            service.shutdown();
            done.countDown();
        }, "dbmigrate-shutdown"));
        done.await();
    }

    /**
     * How often at most an activity's heartbeat details reach the server. The SDK's default is 0.8 of the heartbeat
     * timeout (48 s for the 60 s steps), so `watch`, which reads copy and validation progress from the server's copy
     * of the heartbeat, lagged the work by most of a minute; a handful of long activities beating every 5 s is cheap.
     */
    static final java.time.Duration HEARTBEAT_TO_SERVER = java.time.Duration.ofSeconds(5);

    /** A zero sticky schedule-to-start timeout makes the SDK ask for no sticky queue at all. */
    static WorkerOptions workerOptions(WorkerConfig config) {
        WorkerOptions.Builder b = WorkerOptions.newBuilder().setMaxHeartbeatThrottleInterval(HEARTBEAT_TO_SERVER)
                .setDefaultHeartbeatThrottleInterval(HEARTBEAT_TO_SERVER);
        if (!config.stickyExecution()) {
            b.setStickyQueueScheduleToStartTimeout(java.time.Duration.ZERO);
        }
        return b.build();
    }

    static HttpServer startHttp(WorkerConfig config, WorkflowServiceStubs service, PrometheusMeterRegistry registry)
            throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(config.httpBind(), config.httpPort()), 16);
        http.setExecutor(Executors.newFixedThreadPool(2));
        http.createContext("/metrics", ex -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            respond(ex, 200, body);
        });
        http.createContext("/health", ex -> {
            int code;
            String body;
            try {
                service.blockingStub().withDeadlineAfter(2, TimeUnit.SECONDS)
                        .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
                code = 200;
                body = "{\"status\":\"UP\",\"temporal\":\"" + config.temporalTarget() + "\",\"taskQueue\":\""
                        + config.taskQueue() + "\"}";
            } catch (RuntimeException e) {
                code = 503;
                body = "{\"status\":\"DOWN\",\"temporal\":\"" + config.temporalTarget() + "\",\"error\":\""
                        + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}";
            }
            ex.getResponseHeaders().add("Content-Type", "application/json");
            respond(ex, code, body.getBytes(StandardCharsets.UTF_8));
        });
        config.codecKeys().ifPresent(keys -> {
            EncryptionCodec codec = new EncryptionCodec(keys);
            http.createContext("/codec/encode", new CodecEndpoint(codec, true, config.codecAuthToken(), config.codecCorsOrigins()));
            http.createContext("/codec/decode", new CodecEndpoint(codec, false, config.codecAuthToken(), config.codecCorsOrigins()));
        });
        http.start();
        return http;
    }

    private static void respond(com.sun.net.httpserver.HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }

}
