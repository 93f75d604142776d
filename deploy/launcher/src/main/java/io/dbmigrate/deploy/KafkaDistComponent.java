package io.dbmigrate.deploy;

import java.util.List;

/** A JVM started from the Kafka distribution (broker or Connect): same class path, heap and logging. */
abstract class KafkaDistComponent extends JavaComponent {
    protected KafkaDistComponent(String name, StackContext ctx) {
        super(name, ctx);
    }

    @Override
    protected String classpath() {
        return ChildProcess.classpathOf(ctx.layout().kafkaLib());
    }

    @Override
    protected List<String> jvmOptions() {
        // SerialGC: on a small machine shared with everything else, no concurrent GC threads competing for the cores
        return List.of("-Xms256m", "-Xmx1g", "-XX:+UseSerialGC", "-Dlog4j2.configurationFile=" + log4j2Config());
    }
}
