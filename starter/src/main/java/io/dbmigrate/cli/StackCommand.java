package io.dbmigrate.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.deploy.Component;
import io.dbmigrate.deploy.ChildProcess;
import io.dbmigrate.deploy.ComponentHealth;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackException;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.deploy.StackStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "stack", mixinStandardHelpOptions = true,
        description = "The local stack: source and target PostgreSQL, Kafka, Kafka Connect with Debezium, "
                + "the Temporal test server, the dbmigrate worker, (when installed) PgBouncer and, with --with-monitoring, "
                + "Prometheus, as child processes.",
        subcommands = {StackCommand.Up.class, StackCommand.Down.class, StackCommand.Status.class, StackCommand.Logs.class})
public final class StackCommand {

    static final ObjectMapper JSON = new ObjectMapper();

    static void printStatus(PrintWriter out, StackStatus s, boolean json) {
        if (json) {
            try {
                out.println(JSON.writeValueAsString(s));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return;
        }
        out.printf("%-16s %-8s %-8s %-38s %s%n", "COMPONENT", "HEALTHY", "PID", "ADDRESS", "DETAIL");
        for (ComponentHealth c : s.components()) {
            out.printf("%-16s %-8s %-8s %-38s %s%n", c.name(), c.healthy() ? "yes" : "NO",
                    c.pid() == null ? "-" : c.pid(), c.address(), c.detail());
        }
        out.println(s.healthy() ? "stack healthy (home " + s.home() + ")" : "stack NOT healthy (home " + s.home() + ")");
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start every component that is not running and wait until all are healthy. Idempotent. "
                    + "Every port is checked before anything starts; ports must lie below the kernel's ephemeral range "
                    + "(/proc/sys/net/ipv4/ip_local_port_range).")
    static final class Up implements Callable<Integer> {
        private static final StackPorts DEFAULTS = StackPorts.defaults();

        @Mixin StackOptions stack;
        @Spec CommandSpec spec;
        @Option(names = "--json", description = "Print the final status as one JSON line.") boolean json;
        // Defaults are the initial values, taken from StackPorts.defaults(): one source of truth for the CLI, the
        // launcher and its messages (picocli shows an initial value as ${DEFAULT-VALUE}).
        @Option(names = StackPorts.SOURCE_PG_OPTION, description = "Default: ${DEFAULT-VALUE}") int sourcePg = DEFAULTS.sourcePostgres();
        @Option(names = StackPorts.TARGET_PG_OPTION, description = "Default: ${DEFAULT-VALUE}") int targetPg = DEFAULTS.targetPostgres();
        @Option(names = StackPorts.KAFKA_OPTION, description = "Default: ${DEFAULT-VALUE}") int kafka = DEFAULTS.kafka();
        @Option(names = StackPorts.KAFKA_CONTROLLER_OPTION, description = "Default: ${DEFAULT-VALUE}") int controller = DEFAULTS.kafkaController();
        @Option(names = StackPorts.CONNECT_OPTION, description = "Default: ${DEFAULT-VALUE}") int connect = DEFAULTS.connect();
        @Option(names = StackPorts.TEMPORAL_OPTION, description = "Default: ${DEFAULT-VALUE}") int temporal = DEFAULTS.temporal();
        @Option(names = StackPorts.WORKER_OPTION, description = "Worker /health and /metrics. Default: ${DEFAULT-VALUE}") int worker = DEFAULTS.workerHttp();
        @Option(names = StackPorts.PGBOUNCER_OPTION, description = "PgBouncer (started when its binary is found). Default: ${DEFAULT-VALUE}") int pgbouncer = DEFAULTS.pgbouncer();
        @Option(names = StackPorts.PROMETHEUS_OPTION, description = "Prometheus (with --with-monitoring). Default: ${DEFAULT-VALUE}") int prometheus = DEFAULTS.prometheus();
        @Option(names = StackPorts.CONNECT_METRICS_OPTION, description = "Connect's JMX exporter (with --with-monitoring). Default: ${DEFAULT-VALUE}") int connectMetrics = DEFAULTS.connectMetrics();
        @Option(names = "--with-monitoring", description = "Also run Prometheus (Debian's /usr/bin/prometheus) scraping the "
                + "worker and Connect (with the JMX exporter agent) every 5 s, with deploy/monitoring/alerts.yml loaded. "
                + "Kept while the stack runs; `stack down` ends it.") boolean withMonitoring;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            StackPorts ports = new StackPorts(sourcePg, targetPg, kafka, controller, connect, temporal, worker, pgbouncer,
                    prometheus, connectMetrics);
            // a running stack keeps its monitoring when `up` is run again without the option
            LocalStack s = stack.stack(ports, withMonitoring || LocalStack.recordedMonitoring(stack.layout()));
            long t0 = System.nanoTime();
            StackStatus status;
            try {
                status = s.up(line -> {
                    synchronized (out) {
                        out.println(line);
                        out.flush();
                    }
                });
            } catch (StackException e) {
                spec.commandLine().getErr().println("stack up failed:\n" + e.getMessage());
                // at the ports the stack runs on: `up` may have refused to move a running stack to the ones asked for
                printStatus(out, stack.stack(LocalStack.recordedPorts(stack.layout(), ports)).status(), json);
                return 1;
            }
            out.printf("all components healthy in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            printStatus(out, status, json);
            return status.healthy() ? 0 : 1;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop exactly the processes this stack started (by recorded PID). Keeps data unless --purge.")
    static final class Down implements Callable<Integer> {
        @Mixin StackOptions stack;
        @Spec CommandSpec spec;
        @Option(names = "--purge", description = "Also delete data, logs and configuration under the home.") boolean purge;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            List<String> stopped = stack.stack(null).down(purge, out::println);
            out.println(stopped.isEmpty() ? "nothing was running" : "stack stopped");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Check every component through its own protocol. Exit 0 only when all are healthy.")
    static final class Status implements Callable<Integer> {
        @Mixin StackOptions stack;
        @Spec CommandSpec spec;
        @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

        @Override
        public Integer call() {
            StackStatus s = stack.stack(null).status();
            printStatus(spec.commandLine().getOut(), s, json);
            return s.healthy() ? 0 : 1;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Print the last lines of a component's log (all when none is named).")
    static final class Logs implements Callable<Integer> {
        @Mixin StackOptions stack;
        @Spec CommandSpec spec;
        @Parameters(arity = "0..1", paramLabel = "COMPONENT",
                description = "source-postgres, target-postgres, kafka, connect, temporal, worker, pgbouncer or prometheus") String component;
        @Option(names = {"-n", "--lines"}, defaultValue = "50", description = "Lines per log (default ${DEFAULT-VALUE}).") int lines;

        @Override
        public Integer call() {
            LocalStack s = stack.stack(null);
            PrintWriter out = spec.commandLine().getOut();
            List<Component> which = component == null ? s.components() : List.of(s.component(component));
            for (Component c : which) {
                Path log = s.context().layout().log(c.name());
                out.println("==> " + log + " <==");
                out.println(ChildProcess.tail(log, lines));
            }
            return 0;
        }
    }
}
