package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A component that is a child JVM. */
abstract class JavaComponent extends Component {
    /**
     * For the JVMs on the change path (Kafka, Connect, the worker's applier): Kafka's own default collector settings.
     * A stop-the-world pause lands on every change in flight: with SerialGC and G1's default 200 ms goal, single
     * young collections of 99 ms (Kafka) and 151 ms (applier) made most of the 2,500 commits/s lag p99 (JFR).
     */
    static final List<String> LOW_PAUSE_GC = List.of("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20");

    protected JavaComponent(String name, StackContext ctx) {
        super(name, ctx);
    }

    protected abstract String classpath();

    protected abstract String mainClass();

    protected abstract List<String> jvmOptions();

    protected abstract List<String> arguments();

    protected Map<String, String> environment() {
        return Map.of();
    }

    protected abstract List<Integer> ports();

    protected void prepare() {}

    @Override
    protected void launch() {
        for (int port : ports()) {
            PortCheck.requireFree(port, name);
        }
        prepare();
        List<String> cmd = new ArrayList<>();
        cmd.add(ChildProcess.javaExecutable());
        cmd.addAll(jvmOptions());
        // lets stack down and humans tell our processes apart
        cmd.add("-Ddbmigrate.component=" + name);
        cmd.add("-Ddbmigrate.home=" + ctx.layout().home());
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(mainClass());
        cmd.addAll(arguments());
        ChildProcess.spawn(cmd, environment(), ctx.layout().log(name), ctx.layout().pidFile(name));
    }

    /** Log4j2 configuration shared by the Kafka and Connect JVMs: everything to stdout, which is their log file. */
    protected Path log4j2Config() {
        Path f = ctx.layout().conf("log4j2.properties");
        String text = String.join("\n",
                "status = warn",
                "appender.console.type = Console",
                "appender.console.name = STDOUT",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.stdout.ref = STDOUT",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN",
                "logger.kafkaserver.name = kafka",
                "logger.kafkaserver.level = WARN",
                "logger.connect.name = org.apache.kafka.connect.runtime",
                "logger.connect.level = INFO",
                "logger.reflections.name = org.reflections",
                "logger.reflections.level = ERROR",
                "");
        writeConf(f, text);
        return f;
    }

    protected static void writeConf(Path f, String text) {
        try {
            Files.createDirectories(f.getParent());
            Files.writeString(f, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f, e);
        }
    }
}
