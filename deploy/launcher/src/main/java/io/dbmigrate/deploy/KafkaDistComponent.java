package io.dbmigrate.deploy;

import java.util.ArrayList;
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
        List<String> options = new ArrayList<>(List.of("-Xms256m", "-Xmx1g"));
        options.addAll(LOW_PAUSE_GC);
        options.add("-Dlog4j2.configurationFile=" + log4j2Config());
        return options;
    }
}
