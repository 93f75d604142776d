package io.dbmigrate.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The local stack: two PostgreSQL clusters, Kafka, Kafka Connect with Debezium, Temporal, the dbmigrate worker and,
 * when its binary is installed, PgBouncer in front of the source; each a child process with its PID, log and data under one home directory.
 * With monitoring ({@code stack up --with-monitoring}) Connect runs with the JMX exporter agent and Prometheus scrapes
 * it and the worker; the choice is recorded in the home while the stack runs, so status, logs, down and the demo see it.
 */
public final class LocalStack {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final StackContext ctx;
    private final PostgresComponent source;
    private final PostgresComponent target;
    private final KafkaComponent kafka;
    private final ConnectComponent connect;
    private final TemporalComponent temporal;
    private final WorkerComponent worker;
    private final PgBouncerComponent pgbouncer;
    private final PrometheusComponent prometheus;
    private final boolean monitoring;

    /** The stack as recorded in its home: with monitoring when it runs with it. */
    public LocalStack(StackLayout layout, StackPorts ports, String workerClasspath) {
        this(layout, ports, workerClasspath, recordedMonitoring(layout));
    }

    public LocalStack(StackLayout layout, StackPorts ports, String workerClasspath, boolean monitoring) {
        this.ctx = new StackContext(layout, ports);
        this.monitoring = monitoring;
        this.source = new PostgresComponent("source-postgres", ports.sourcePostgres(), true, ctx);
        this.target = new PostgresComponent("target-postgres", ports.targetPostgres(), true, ctx);
        this.kafka = new KafkaComponent(ctx);
        this.connect = new ConnectComponent(ctx, monitoring);
        this.temporal = new TemporalComponent(ctx);
        this.worker = new WorkerComponent(ctx, workerClasspath);
        this.pgbouncer = new PgBouncerComponent(ctx);
        this.prometheus = new PrometheusComponent(ctx, monitoring);
    }

    /** Whether the stack in this home was brought up with monitoring (and not stopped since). */
    public static boolean recordedMonitoring(StackLayout layout) {
        return Files.exists(layout.monitoringMarker());
    }

    public boolean monitoring() {
        return monitoring;
    }

    /** Prometheus's web UI and API, when the stack runs it (monitoring on and the binary installed). */
    public java.util.Optional<String> prometheusUrl() {
        return prometheus.skipped().isPresent() ? java.util.Optional.empty() : java.util.Optional.of(prometheus.address());
    }

    /** Connect's JMX exporter (Prometheus text), when the stack runs with monitoring. */
    public java.util.Optional<String> connectMetricsUrl() {
        return connect.metricsAddress();
    }

    /** Ports recorded by the last {@code up} in this home, else the given ones. */
    public static StackPorts recordedPorts(StackLayout layout, StackPorts fallback) {
        Path f = layout.stateFile();
        if (!Files.isRegularFile(f)) {
            return fallback;
        }
        try {
            return JSON.readValue(f.toFile(), StackPorts.class);
        } catch (IOException e) {
            throw new StackException("cannot read " + f + ": " + e.getMessage() + " (delete it to use default ports)");
        }
    }

    public StackContext context() {
        return ctx;
    }

    /** PgBouncer's port, when this machine has PgBouncer (the stack then runs it in front of the source). */
    public java.util.Optional<Integer> pgbouncerPort() {
        return pgbouncer.skipped().isPresent() ? java.util.Optional.empty() : java.util.Optional.of(ctx.ports().pgbouncer());
    }

    /** PgBouncer's admin console (user and password: the clusters' superuser), when this machine has PgBouncer. */
    public java.util.Optional<io.dbmigrate.workflows.model.Endpoint> pgbouncerAdmin() {
        return pgbouncer.skipped().isPresent() ? java.util.Optional.empty() : java.util.Optional.of(pgbouncer.adminEndpoint());
    }

    /** The databases file PgBouncer includes (the worker rewrites it at the switch), when this machine has PgBouncer. */
    public java.util.Optional<Path> pgbouncerDatabasesFile() {
        return pgbouncer.skipped().isPresent() ? java.util.Optional.empty() : java.util.Optional.of(ctx.pgbouncerDatabasesFile());
    }

    public List<Component> components() {
        return List.of(source, target, kafka, connect, temporal, worker, pgbouncer, prometheus);
    }

    public Component component(String name) {
        return components().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new StackException("no component named '" + name + "'; components: "
                        + components().stream().map(Component::name).toList()));
    }

    /**
     * Starts whatever is not running and waits until every component is healthy. Independent chains start in
     * parallel: each PostgreSQL; Kafka then Connect; Temporal then the worker.
     */
    public StackStatus up(Consumer<String> progress) {
        checkPorts(progress);
        ctx.layout().createDirectories();
        recordPorts();
        recordMonitoring();
        ctx.postgresPassword(); // before the clusters start in parallel: both initdb with the same password
        Map<String, CompletableFuture<ComponentHealth>> started = new LinkedHashMap<>();
        started.put(source.name(), startAsync(source, null, progress));
        started.put(target.name(), startAsync(target, null, progress));
        CompletableFuture<ComponentHealth> k = startAsync(kafka, null, progress);
        started.put(kafka.name(), k);
        started.put(connect.name(), startAsync(connect, k, progress));
        CompletableFuture<ComponentHealth> t = startAsync(temporal, null, progress);
        started.put(temporal.name(), t);
        started.put(worker.name(), startAsync(worker, t, progress));
        started.put(pgbouncer.name(), startAsync(pgbouncer, null, progress));
        started.put(prometheus.name(), startAsync(prometheus, null, progress));
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, CompletableFuture<ComponentHealth>> e : started.entrySet()) {
            try {
                e.getValue().join();
            } catch (CompletionException ex) {
                Throwable cause = ex.getCause() == null ? ex : ex.getCause();
                failures.add(cause instanceof StackException ? cause.getMessage() : e.getKey() + ": " + cause);
            }
        }
        if (!failures.isEmpty()) {
            throw new StackException(String.join("\n\n", failures));
        }
        return status();
    }

    /**
     * Starts only the two PostgreSQL clusters (what a validation or its benchmark needs), and waits until both are
     * healthy; the rest of the stack stays as it is.
     */
    public void upPostgres(Consumer<String> progress) {
        ctx.layout().createDirectories();
        if (source.pid().isEmpty() && target.pid().isEmpty()) {
            recordPorts();
        }
        ctx.postgresPassword();
        CompletableFuture<ComponentHealth> s = startAsync(source, null, progress);
        CompletableFuture<ComponentHealth> t = startAsync(target, null, progress);
        try {
            CompletableFuture.allOf(s, t).join();
        } catch (CompletionException ex) {
            throw ex.getCause() instanceof StackException se ? se : new StackException(String.valueOf(ex.getCause()));
        }
    }

    /**
     * Refuses, before anything starts, every port the stack cannot listen on, all of them in one message: a
     * component failing half-way would leave the others running on a stack that cannot work.
     */
    private void checkPorts(Consumer<String> progress) {
        EphemeralPorts range = EphemeralPorts.read();
        if (range.note() != null) {
            progress.accept("note: " + range.note());
        }
        // a component this stack already runs holds its own port: only the others must find theirs free
        List<Component> all = components();
        Set<String> starting = all.stream().filter(c -> c.pid().isEmpty() && c.skipped().isEmpty())
                .map(Component::name).collect(Collectors.toSet());
        // (an optional component that is off neither runs nor starts: it does not make a stopped stack a running one)
        if (all.stream().anyMatch(c -> c.pid().isPresent())) {
            requireRunningOnThesePorts();
            if (monitoring && !recordedMonitoring(ctx.layout()) && connect.pid().isPresent()) {
                // the JMX exporter is an agent on Connect's command line: it cannot join a running JVM
                throw new StackException("nothing was started: connect in " + ctx.layout().home() + " runs without the "
                        + "JMX exporter (the stack was brought up without --with-monitoring). Run `stack down` first, then "
                        + "`stack up --with-monitoring`");
            }
        }
        List<String> problems = PortCheck.problems(ctx.ports(), starting, range);
        if (!problems.isEmpty()) {
            throw new StackException("nothing was started; the ports need fixing first:\n- " + String.join("\n- ", problems));
        }
    }

    /**
     * A running stack cannot move to other ports: its components would be probed where they do not listen until the
     * start timeout. This happens when `up` runs with other options than the running stack's, or after an upgrade
     * changed the default ports.
     */
    private void requireRunningOnThesePorts() {
        // with no state file recordedPorts gives back the asked ports: nothing moved
        StackPorts running = recordedPorts(ctx.layout(), ctx.ports());
        List<String> moved = new ArrayList<>();
        List<StackPorts.Assignment> was = running.assignments();
        List<StackPorts.Assignment> asked = ctx.ports().assignments();
        for (int i = 0; i < was.size(); i++) {
            if (was.get(i).port() != asked.get(i).port()) {
                moved.add(was.get(i).option() + " " + was.get(i).port() + " (asked: " + asked.get(i).port() + ")");
            }
        }
        if (!moved.isEmpty()) {
            throw new StackException("nothing was started: the stack in " + ctx.layout().home() + " runs on other ports: "
                    + String.join(", ", moved) + ". Run `stack down` first to move it, or `stack up "
                    + String.join(" ", running.asOptions()) + "`");
        }
    }

    private static CompletableFuture<ComponentHealth> startAsync(Component c, CompletableFuture<ComponentHealth> after,
            Consumer<String> progress) {
        CompletableFuture<?> before = after == null ? CompletableFuture.completedFuture(null) : after;
        return before.thenApplyAsync(ignored -> {
            long t0 = System.nanoTime();
            ComponentHealth h = c.start();
            if (c.skipped().isPresent()) {
                progress.accept(String.format("%-16s %s", c.name(), h.detail()));
                return h;
            }
            progress.accept(String.format("%-16s healthy in %5.1f s  %s", c.name(), (System.nanoTime() - t0) / 1e9, c.address()));
            return h;
        }).exceptionallyCompose(ex -> {
            // a dependency failed: name it rather than starting this one
            if (after != null && after.isCompletedExceptionally()) {
                return CompletableFuture.failedFuture(new StackException(c.name() + " not started: a component it needs failed"));
            }
            return CompletableFuture.failedFuture(ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex);
        });
    }

    public StackStatus status() {
        List<CompletableFuture<ComponentHealth>> probes = components().stream()
                .map(c -> CompletableFuture.supplyAsync(c::health)).toList();
        return StackStatus.of(ctx.layout().home().toString(), probes.stream().map(CompletableFuture::join).toList());
    }

    /** Stops every recorded process, dependents first; keeps data unless {@code purge}. */
    public List<String> down(boolean purge, Consumer<String> progress) {
        List<String> stopped = new ArrayList<>();
        List<Component> reverse = new ArrayList<>(components());
        java.util.Collections.reverse(reverse);
        for (Component c : reverse) {
            if (c.pid().isPresent()) {
                c.stop();
                stopped.add(c.name());
                progress.accept("stopped " + c.name());
            }
        }
        try {
            Files.deleteIfExists(ctx.layout().monitoringMarker());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (purge) {
            deleteTree(ctx.layout().home().resolve("data"));
            deleteTree(ctx.layout().logs());
            deleteTree(ctx.layout().home().resolve("run"));
            deleteTree(ctx.layout().home().resolve("conf"));
            progress.accept("purged " + ctx.layout().home());
        }
        return stopped;
    }

    private void recordMonitoring() {
        try {
            if (monitoring) {
                Files.writeString(ctx.layout().monitoringMarker(), "stack up --with-monitoring\n");
            } else {
                Files.deleteIfExists(ctx.layout().monitoringMarker());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void recordPorts() {
        try {
            Files.writeString(ctx.layout().stateFile(), JSON.writeValueAsString(ctx.ports()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
