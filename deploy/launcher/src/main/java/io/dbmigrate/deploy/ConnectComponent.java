package io.dbmigrate.deploy;

import java.util.List;

/** A Kafka Connect distributed worker with the Debezium PostgreSQL connector on its plugin path. */
public final class ConnectComponent extends KafkaDistComponent {
    public static final String DEBEZIUM_POSTGRES = "io.debezium.connector.postgresql.PostgresConnector";

    public ConnectComponent(StackContext ctx) {
        super("connect", ctx);
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
        return List.of(ctx.ports().connect());
    }

    @Override
    protected String probe() throws Exception {
        String body = HttpProbe.get(address(), "/connector-plugins");
        if (!body.contains(DEBEZIUM_POSTGRES)) {
            throw new StackException("the Debezium PostgreSQL connector is not among the plugins: " + body);
        }
        return "REST up, " + DEBEZIUM_POSTGRES + " loaded";
    }
}
