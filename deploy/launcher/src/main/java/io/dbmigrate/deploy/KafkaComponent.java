package io.dbmigrate.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/** A single-node Kafka broker in KRaft mode (broker and controller in one JVM). */
public final class KafkaComponent extends KafkaDistComponent {
    public KafkaComponent(StackContext ctx) {
        super("kafka", ctx);
    }

    @Override
    public String address() {
        return bootstrap();
    }

    public String bootstrap() {
        return "127.0.0.1:" + ctx.ports().kafka();
    }

    private Path serverProperties() {
        return ctx.layout().conf("kafka-server.properties");
    }

    @Override
    protected void prepare() {
        Path logDir = ctx.layout().data(name);
        int broker = ctx.ports().kafka();
        int controller = ctx.ports().kafkaController();
        writeConf(serverProperties(), String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.bootstrap.servers=127.0.0.1:" + controller,
                "listeners=PLAINTEXT://127.0.0.1:" + broker + ",CONTROLLER://127.0.0.1:" + controller,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + broker,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + logDir,
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "num.network.threads=2",
                "num.io.threads=2",
                "log.retention.hours=168",
                ""));
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            ChildProcess.run(List.of(ChildProcess.javaExecutable(), "-Xmx256m",
                    "-Dlog4j2.configurationFile=" + log4j2Config(),
                    "-cp", classpath(), "kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(),
                    "-c", serverProperties().toString(), "--standalone"), Map.of(), Duration.ofMinutes(2));
        }
    }

    @Override
    protected String mainClass() {
        return "kafka.Kafka";
    }

    @Override
    protected List<String> arguments() {
        return List.of(serverProperties().toString());
    }

    @Override
    protected List<Integer> ports() {
        return List.of(ctx.ports().kafka(), ctx.ports().kafkaController());
    }

    @Override
    protected String probe() throws Exception {
        // 3-4 s were too short for a fresh CLI JVM's admin client at load 10 on 2 cores: 2 of 20 `stack status`
        // runs right after `up` called a running broker unhealthy ("Timed out waiting for a node assignment")
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        try (Admin admin = Admin.create(p)) {
            var cluster = admin.describeCluster();
            int nodes = cluster.nodes().get(12, TimeUnit.SECONDS).size();
            String clusterId = cluster.clusterId().get(12, TimeUnit.SECONDS);
            return "cluster " + clusterId + ", " + nodes + " broker(s)";
        }
    }
}
