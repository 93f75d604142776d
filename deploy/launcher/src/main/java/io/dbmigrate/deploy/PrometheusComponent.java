package io.dbmigrate.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Prometheus scraping the worker's /metrics and Connect's JMX exporter every 5 s, with deploy/monitoring/alerts.yml
 * as its rule file, so a demo can be watched live. Optional twice over: it runs only on a stack brought up with
 * {@code --with-monitoring}, and only when a prometheus binary is found ({@code DBMIGRATE_PROMETHEUS},
 * Debian's {@code /usr/bin/prometheus}, or PATH). Configuration in conf/, series in data/prometheus.
 */
public final class PrometheusComponent extends Component {
    public static final String BINARY_ENV = "DBMIGRATE_PROMETHEUS";
    /** Job names: the alert rules select the worker by {@code job="dbmigrate-worker"}. */
    public static final String WORKER_JOB = "dbmigrate-worker";
    public static final String CONNECT_JOB = "kafka-connect";

    private final boolean monitoring;

    public PrometheusComponent(StackContext ctx, boolean monitoring) {
        super("prometheus", ctx);
        this.monitoring = monitoring;
    }

    @Override
    public String address() {
        return "http://127.0.0.1:" + ctx.ports().prometheus();
    }

    @Override
    public Optional<String> skipped() {
        if (!monitoring) {
            return Optional.of("monitoring is off (`stack up --with-monitoring` starts Prometheus)");
        }
        return binary().isPresent() ? Optional.empty() : Optional.of("no prometheus binary (set " + BINARY_ENV
                + ", or install it: apt-get install --no-install-recommends prometheus); Connect's JMX exporter and the"
                + " worker's /metrics still answer");
    }

    static Optional<Path> binary() {
        return InstalledBinary.find(BINARY_ENV, Path.of("/usr/bin/prometheus"), "prometheus");
    }

    /** prometheus.yml: both targets every 5 s, the repository's alert rules evaluated as often. */
    String config() {
        return String.join("\n",
                "# written by `stack up --with-monitoring` at every start",
                "global:",
                "  scrape_interval: 5s",
                "  evaluation_interval: 5s",
                "rule_files:",
                "  - " + ctx.layout().monitoringFiles().resolve("alerts.yml"),
                "scrape_configs:",
                "  - job_name: " + WORKER_JOB,
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + ctx.ports().workerHttp() + "']",
                "  - job_name: " + CONNECT_JOB,
                // the exporter reads every MBean per scrape: allow it more than the default 10 s under a busy snapshot
                "    scrape_timeout: 5s",
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + ctx.ports().connectMetrics() + "']",
                "");
    }

    @Override
    protected void launch() {
        Path bin = binary().orElseThrow(() -> new StackException(name + ": " + skipped().orElse("")));
        Path conf = ctx.layout().conf("prometheus.yml");
        Path data = ctx.layout().data(name);
        try {
            Files.createDirectories(conf.getParent());
            Files.createDirectories(data);
            Files.writeString(conf, config());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write Prometheus's configuration " + conf, e);
        }
        PortCheck.requireFree(ctx.ports().prometheus(), name);
        ChildProcess.spawn(List.of(bin.toString(),
                "--config.file=" + conf,
                "--storage.tsdb.path=" + data,
                "--storage.tsdb.retention.time=7d",
                "--web.listen-address=127.0.0.1:" + ctx.ports().prometheus()),
                Map.of(), ctx.layout().log(name), ctx.layout().pidFile(name));
    }

    @Override
    protected String probe() throws Exception {
        HttpProbe.get(address(), "/-/ready");
        return "ready, scraping worker :" + ctx.ports().workerHttp() + " and connect :" + ctx.ports().connectMetrics()
                + " every 5 s";
    }

    @Override
    protected Duration startTimeout() {
        return Duration.ofSeconds(30);
    }
}
