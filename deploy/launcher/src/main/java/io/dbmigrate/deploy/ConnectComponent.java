package io.dbmigrate.deploy;

import java.util.ArrayList;
import java.util.List;

/**
 * A Kafka Connect distributed worker with the Debezium PostgreSQL connector on its plugin path. Under monitoring it
 * runs with the Prometheus JMX exporter agent, which serves Connect's and Debezium's MBeans as Prometheus text on
 * {@link StackPorts#connectMetrics()} (rules: deploy/monitoring/connect-jmx-exporter.yml).
 */
public final class ConnectComponent extends KafkaDistComponent {
    public static final String DEBEZIUM_POSTGRES = "io.debezium.connector.postgresql.PostgresConnector";
    public static final String JMX_EXPORTER_RULES = "connect-jmx-exporter.yml";

    private final boolean monitoring;

    public ConnectComponent(StackContext ctx, boolean monitoring) {
        super("connect", ctx);
        this.monitoring = monitoring;
    }

    /** Connect's metrics for Prometheus, when the stack runs with monitoring. */
    public java.util.Optional<String> metricsAddress() {
        return monitoring ? java.util.Optional.of("http://127.0.0.1:" + ctx.ports().connectMetrics() + "/metrics")
                : java.util.Optional.empty();
    }

    @Override
    protected List<String> jvmOptions() {
        List<String> options = new ArrayList<>(super.jvmOptions());
        if (monitoring) {
            // agent argument: [host:]port:config
            options.add("-javaagent:" + ctx.layout().jmxExporterAgent() + "=127.0.0.1:" + ctx.ports().connectMetrics()
                    + ":" + ctx.layout().monitoringFiles().resolve(JMX_EXPORTER_RULES));
        }
        return options;
    }

    @Override
    public String address() {
        return "http://127.0.0.1:" + ctx.ports().connect();
    }

    @Override
    protected void prepare() {
        writeConf(ctx.layout().conf("connect-distributed.properties"), String.join("\n",
                "bootstrap.servers=127.0.0.1:" + ctx.ports().kafka(),
                "group.id=dbmigrate-connect",
                "config.storage.topic=dbmigrate-connect-configs",
                "offset.storage.topic=dbmigrate-connect-offsets",
                "status.storage.topic=dbmigrate-connect-status",
                "config.storage.replication.factor=1",
                "offset.storage.replication.factor=1",
                "status.storage.replication.factor=1",
                // source offsets (the slot's confirmed LSN follows them) are flushed every second
                "offset.flush.interval.ms=1000",
                "key.converter=org.apache.kafka.connect.json.JsonConverter",
                "value.converter=org.apache.kafka.connect.json.JsonConverter",
                "key.converter.schemas.enable=false",
                "value.converter.schemas.enable=false",
                "listeners=http://127.0.0.1:" + ctx.ports().connect(),
                "rest.advertised.host.name=127.0.0.1",
                "rest.advertised.port=" + ctx.ports().connect(),
                "plugin.path=" + ctx.layout().connectPlugins(),
                "plugin.discovery=service_load",
                "connector.client.config.override.policy=All",
                "scheduled.rebalance.max.delay.ms=0",
                // connector configs carry password references, resolved here: ${dir:DIR:FILE}, ${env:NAME}
                "config.providers=dir,env",
                "config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                "config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
                ""));
    }

    @Override
    protected String mainClass() {
        return "org.apache.kafka.connect.cli.ConnectDistributed";
    }

    @Override
    protected List<String> arguments() {
        return List.of(ctx.layout().conf("connect-distributed.properties").toString());
    }

    @Override
    protected List<Integer> ports() {
        return monitoring ? List.of(ctx.ports().connect(), ctx.ports().connectMetrics()) : List.of(ctx.ports().connect());
    }

    @Override
    protected String probe() throws Exception {
        String body = HttpProbe.get(address(), "/connector-plugins");
        if (!body.contains(DEBEZIUM_POSTGRES)) {
            throw new StackException("the Debezium PostgreSQL connector is not among the plugins: " + body);
        }
        if (monitoring) {
            HttpProbe.get("http://127.0.0.1:" + ctx.ports().connectMetrics(), "/-/healthy");
            return "REST up, " + DEBEZIUM_POSTGRES + " loaded, JMX exporter on :" + ctx.ports().connectMetrics();
        }
        return "REST up, " + DEBEZIUM_POSTGRES + " loaded";
    }
}
