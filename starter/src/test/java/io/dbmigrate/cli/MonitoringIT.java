package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dbmigrate.deploy.PrometheusComponent;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.it.ItPorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The monitoring of issue 19 against a real stack brought up with --with-monitoring: every metric the dashboard and
 * the alert rules query is exported by the running worker or by Connect's JMX exporter while a demo migrates (and
 * after one rolls back), and Prometheus scrapes both targets and has loaded every alert of alerts.yml.
 */
class MonitoringIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-monitoring");
    static final StackPorts PORTS = ItPorts.block(32);
    static final Path MONITORING = StackIT.ROOT.resolve("deploy/monitoring");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void up() {
        StackIT.up(HOME, StackIT.with(PORTS.asOptions().toArray(String[]::new), "--with-monitoring"));
    }

    @AfterAll
    static void down() {
        StackIT.cli("stack", "down", "--home", HOME.toString());
    }

    @Test
    void everyMetricTheDashboardAndTheAlertsQueryIsExportedAndPrometheusScrapesBoth() throws Exception {
        Set<String> exported = new ConcurrentSkipListSet<>();
        String connectMetrics = "http://127.0.0.1:" + PORTS.connectMetrics() + "/metrics";
        String workerMetrics = "http://127.0.0.1:" + PORTS.workerHttp() + "/metrics";
        // Connect's connector and Debezium MBeans live as long as the migration's connectors: scrape while it runs
        CompletableFuture<JsonNode> demo = CompletableFuture.supplyAsync(() -> demo());
        while (!demo.isDone()) {
            exported.addAll(sampleNames(get(connectMetrics)));
            Thread.sleep(1000);
        }
        JsonNode r = demo.join();
        assertEquals("COMPLETED", r.get("status").asText(), r.toString());
        assertEquals("http://127.0.0.1:" + PORTS.prometheus(), r.get("prometheus").asText(), "the summary says where Prometheus is");
        // a rollback creates dbmigrate_migration_rollbacks_total
        JsonNode rolledBack = demo("--fail-at", "snapshot", "--strategy", "fence");
        assertEquals("ROLLED_BACK", rolledBack.get("status").asText(), rolledBack.toString());

        Set<String> queried = new TreeSet<>();
        for (JsonNode target : JSON.readTree(MONITORING.resolve("dashboard.json").toFile()).findValues("targets")) {
            target.forEach(t -> queried.addAll(metricNames(t.get("expr").asText())));
        }
        JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(MONITORING.resolve("alerts.yml").toFile());
        List<String> alerts = new ArrayList<>();
        for (JsonNode rule : rules.at("/groups/0/rules")) {
            alerts.add(rule.get("alert").asText());
            queried.addAll(metricNames(rule.get("expr").asText()));
        }
        assertTrue(queried.size() > 40 && queried.contains("dbmigrate_slot_retained_wal_bytes")
                && queried.contains("debezium_metrics_MilliSecondsBehindSource"), "names read from the expressions: " + queried);
        // `up` is Prometheus's own series, checked below through its targets
        queried.remove("up");
        // the workflow's metrics reach the registry at the Tally scope's next report (every 5 s)
        long reported = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> missing;
        do {
            exported.addAll(sampleNames(get(workerMetrics)));
            missing = queried.stream().filter(n -> !exported.contains(n)).toList();
        } while (!missing.isEmpty() && System.nanoTime() < reported && sleep(1000));

        // Prometheus: both targets up (scraped every 5 s), every alert of alerts.yml loaded
        String prometheus = "http://127.0.0.1:" + PORTS.prometheus();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Set<String> up = new TreeSet<>();
        while (up.size() < 2 && System.nanoTime() < deadline) {
            up.clear();
            for (JsonNode t : JSON.readTree(get(prometheus + "/api/v1/targets")).at("/data/activeTargets")) {
                if (t.get("health").asText().equals("up")) {
                    up.add(t.at("/labels/job").asText());
                }
            }
            Thread.sleep(1000);
        }
        assertEquals(Set.of(PrometheusComponent.WORKER_JOB, PrometheusComponent.CONNECT_JOB), up);
        List<String> loaded = new ArrayList<>();
        for (JsonNode g : JSON.readTree(get(prometheus + "/api/v1/rules")).at("/data/groups")) {
            g.get("rules").forEach(rule -> loaded.add(rule.get("name").asText()));
        }
        assertEquals(alerts, loaded, "Prometheus loaded deploy/monitoring/alerts.yml");
        // and it holds the worker's series: the scrape is real, not just a healthy target
        JsonNode q = JSON.readTree(get(prometheus + "/api/v1/query?query=dbmigrate_apply_transactions_total"));
        assertTrue(q.at("/data/result").size() > 0, q.toString());
        // last, so that a missing metric does not hide what Prometheus shows
        assertTrue(missing.isEmpty(), "queried by deploy/monitoring/dashboard.json or alerts.yml but exported by neither "
                + "the worker nor Connect's JMX exporter: " + missing);
    }

    private static boolean sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
        return true;
    }

    static JsonNode demo(String... extra) {
        try {
            return StackIT.lastLineJson(StackIT.printed(StackIT.with(new String[] {"demo", "--home", HOME.toString(),
                    "--rows", "2000", "--writes-per-sec", "20", "--json"}, extra)).out());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String get(String url) throws Exception {
        HttpResponse<String> resp = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, resp.statusCode(), url + ": " + resp.body());
        return resp.body();
    }

    /**
     * The sample names of a Prometheus text exposition, plus the names a query may use for its families: a
     * histogram's or summary's {@code _bucket/_sum/_count}, a counter's {@code _total}.
     */
    static Set<String> sampleNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                switch (f[3]) {
                    case "histogram" -> names.addAll(List.of(f[2] + "_bucket", f[2] + "_sum", f[2] + "_count"));
                    case "summary" -> names.addAll(List.of(f[2] + "_sum", f[2] + "_count"));
                    case "counter" -> names.add(f[2].endsWith("_total") ? f[2] : f[2] + "_total");
                    default -> { }
                }
            } else if (!line.isBlank() && !line.startsWith("#")) {
                Matcher m = Pattern.compile("^[a-zA-Z_:][a-zA-Z0-9_:]*").matcher(line);
                if (m.find()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern LABELS = Pattern.compile("\\{[^}]*}");
    private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENT = Pattern.compile("(?<![\\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\\b(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "bool", "offset", "inf", "nan");

    /** The metric names a PromQL expression selects (functions, keywords, labels and durations left out). */
    static Set<String> metricNames(String expr) {
        String s = STRING.matcher(expr).replaceAll("\"\"");
        s = LABELS.matcher(s).replaceAll(" ");
        s = RANGE.matcher(s).replaceAll(" ");
        s = GROUPING.matcher(s).replaceAll(" ");
        Set<String> out = new TreeSet<>();
        Matcher m = IDENT.matcher(s);
        while (m.find()) {
            if (!KEYWORDS.contains(m.group(1).toLowerCase())) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}
