package io.dbmigrate.worker;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import io.dbmigrate.activities.sql.SecretRef;
import io.dbmigrate.workflows.codec.CodecKeys;

/**
 * Worker settings, from a properties file named by {@code DBMIGRATE_CONFIG} and/or environment variables
 * (the environment wins). Each setting has one property name and one environment name; every problem found is
 * reported at once, each naming its setting.
 */
public record WorkerConfig(
        String temporalTarget,
        String namespace,
        String taskQueue,
        int httpPort,
        String httpBind,
        String kafkaBootstrap,
        String connectUrl,
        boolean stickyExecution,
        Optional<CodecKeys> codecKeys,
        Optional<String> codecAuthToken,
        List<String> codecCorsOrigins,
        Path reportDir) {

    /** The token and keys stay out of logs and exceptions. */
    @Override
    public String toString() {
        return "WorkerConfig[temporal " + temporalTarget + ", namespace " + namespace + ", task queue " + taskQueue
                + ", http " + httpBind + ":" + httpPort + ", codec " + codecKeys.map(CodecKeys::toString).orElse("off")
                + ", codec auth " + (codecAuthToken.isPresent() ? "bearer token" : "none") + "]";
    }

    /** property name -> environment variable */
    static final Map<String, String> SETTINGS = new LinkedHashMap<>();

    static {
        SETTINGS.put("temporal.target", "DBMIGRATE_TEMPORAL_TARGET");
        SETTINGS.put("temporal.namespace", "DBMIGRATE_TEMPORAL_NAMESPACE");
        SETTINGS.put("task.queue", "DBMIGRATE_TASK_QUEUE");
        SETTINGS.put("http.port", "DBMIGRATE_HTTP_PORT");
        // 0.0.0.0 in a container: the kubelet's probes and Prometheus reach the pod's address, not its loopback
        SETTINGS.put("http.bind", "DBMIGRATE_HTTP_BIND");
        SETTINGS.put("kafka.bootstrap", "DBMIGRATE_KAFKA_BOOTSTRAP");
        SETTINGS.put("connect.url", "DBMIGRATE_CONNECT_URL");
        // false on Temporal's test server (the local stack): it never moves a workflow task or a query off the sticky
        // queue of a worker that died, so the migration would wait forever; a real server times it out in about 5 s
        SETTINGS.put("sticky.execution", "DBMIGRATE_STICKY_EXECUTION");
        // a reference (env:NAME, file:PATH) to the payload codec's keys: unset, payloads are stored in plain JSON
        SETTINGS.put("codec.key", "DBMIGRATE_CODEC_KEY");
        // a reference to the bearer token /codec/decode and /codec/encode require; unset, they require none
        SETTINGS.put("codec.auth", "DBMIGRATE_CODEC_AUTH");
        // origins (comma-separated) whose pages may call the codec endpoint: the Temporal UI's, e.g. http://localhost:8080
        SETTINGS.put("codec.cors.origins", "DBMIGRATE_CODEC_CORS_ORIGINS");
        // where the live validation writes its reports (JSON and HTML, real keys: keep it private to operators)
        SETTINGS.put("report.dir", "DBMIGRATE_REPORT_DIR");
    }

    public static final String CONFIG_FILE_ENV = "DBMIGRATE_CONFIG";
    public static final String DEFAULT_TASK_QUEUE = "dbmigrate";
    public static final int DEFAULT_HTTP_PORT = 9464;
    public static final String DEFAULT_HTTP_BIND = "127.0.0.1";
    /** Under the worker's working directory. */
    public static final String DEFAULT_REPORT_DIR = "reports";

    /** Every environment variable the worker reads (deploy/'s manifests are checked against these). */
    public static java.util.Set<String> environmentNames() {
        java.util.Set<String> names = new java.util.LinkedHashSet<>(SETTINGS.values());
        names.add(CONFIG_FILE_ENV);
        return java.util.Collections.unmodifiableSet(names);
    }

    public static WorkerConfig load(Map<String, String> env) {
        Properties file = new Properties();
        String path = env.get(CONFIG_FILE_ENV);
        if (path != null && !path.isBlank()) {
            try (Reader r = Files.newBufferedReader(Path.of(path))) {
                file.load(r);
            } catch (IOException e) {
                throw new ConfigException(List.of(CONFIG_FILE_ENV + "=" + path + ": cannot read (" + e.getMessage() + ")"));
            }
            for (String key : file.stringPropertyNames()) {
                if (!SETTINGS.containsKey(key)) {
                    throw new ConfigException(List.of(path + ": unknown setting '" + key + "'; known: " + SETTINGS.keySet()));
                }
            }
        }
        Map<String, String> values = new LinkedHashMap<>();
        SETTINGS.forEach((prop, envName) -> {
            String v = env.get(envName);
            if (v == null || v.isBlank()) {
                v = file.getProperty(prop);
            }
            if (v != null && !v.isBlank()) {
                values.put(prop, v.trim());
            }
        });
        return validate(values, env);
    }

    /** {@code secrets}: where env: references resolve (the process environment). */
    static WorkerConfig validate(Map<String, String> v, Map<String, String> secrets) {
        List<String> problems = new ArrayList<>();
        String temporal = required(v, "temporal.target", problems);
        if (temporal != null && !temporal.matches("[^:/\\s]+:\\d{1,5}")) {
            problems.add(describe("temporal.target") + " must be host:port, got '" + temporal + "'");
        }
        String kafka = required(v, "kafka.bootstrap", problems);
        if (kafka != null && !kafka.matches("[^:/\\s,]+:\\d{1,5}(,[^:/\\s,]+:\\d{1,5})*")) {
            problems.add(describe("kafka.bootstrap") + " must be host:port[,host:port...], got '" + kafka + "'");
        }
        String connect = required(v, "connect.url", problems);
        if (connect != null) {
            try {
                URI u = URI.create(connect);
                if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                    problems.add(describe("connect.url") + " must be an http(s) URL, got '" + connect + "'");
                }
            } catch (IllegalArgumentException e) {
                problems.add(describe("connect.url") + " is not a URL: '" + connect + "'");
            }
        }
        int port = DEFAULT_HTTP_PORT;
        String portText = v.get("http.port");
        if (portText != null) {
            try {
                port = Integer.parseInt(portText);
                if (port < 1 || port > 65535) {
                    problems.add(describe("http.port") + " must be 1-65535, got " + port);
                }
            } catch (NumberFormatException e) {
                problems.add(describe("http.port") + " must be a number, got '" + portText + "'");
            }
        }
        String bind = v.getOrDefault("http.bind", DEFAULT_HTTP_BIND);
        if (!bind.matches("[A-Za-z0-9.:-]+")) {
            problems.add(describe("http.bind") + " must be an address or host name, got '" + bind + "'");
        }
        String sticky = v.getOrDefault("sticky.execution", "true");
        if (!sticky.equals("true") && !sticky.equals("false")) {
            problems.add(describe("sticky.execution") + " must be true or false, got '" + sticky + "'");
        }
        Optional<CodecKeys> keys = Optional.empty();
        if (v.containsKey("codec.key")) {
            try {
                keys = Optional.of(codecKeys(describe("codec.key"), v.get("codec.key"), secrets));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        Optional<String> token = Optional.empty();
        if (v.containsKey("codec.auth")) {
            try {
                token = Optional.of(SecretRef.resolve(describe("codec.auth"), v.get("codec.auth"), secrets));
                if (token.get().isEmpty()) {
                    problems.add(describe("codec.auth") + " " + v.get("codec.auth") + " is empty");
                }
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
            if (!v.containsKey("codec.key")) {
                problems.add(describe("codec.auth") + " is set but " + describe("codec.key") + " is not: there is no codec to protect");
            }
        }
        List<String> origins = v.containsKey("codec.cors.origins")
                ? List.of(v.get("codec.cors.origins").split("\\s*,\\s*")) : List.of();
        for (String o : origins) {
            if (!o.equals("*") && !o.matches("https?://[^/\\s]+")) {
                problems.add(describe("codec.cors.origins") + ": '" + o + "' is not an origin (scheme://host[:port], no path) or *");
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new WorkerConfig(temporal, v.getOrDefault("temporal.namespace", "default"),
                v.getOrDefault("task.queue", DEFAULT_TASK_QUEUE), port, bind, kafka, connect, Boolean.parseBoolean(sticky),
                keys, token, origins, Path.of(v.getOrDefault("report.dir", DEFAULT_REPORT_DIR)).toAbsolutePath());
    }

    /** The codec's keys from a reference; the worker and the CLI read the same secret the same way. */
    public static CodecKeys codecKeys(String what, String ref, Map<String, String> env) {
        return CodecKeys.parse(SecretRef.resolve(what, ref, env), what + " " + ref);
    }

    private static String required(Map<String, String> v, String prop, List<String> problems) {
        String value = v.get(prop);
        if (value == null) {
            problems.add(describe(prop) + " is required");
        }
        return value;
    }

    private static String describe(String prop) {
        return SETTINGS.get(prop) + " (" + prop + ")";
    }

    /** Invalid configuration; the message lists every problem, one per line. */
    public static final class ConfigException extends RuntimeException {
        private final List<String> problems;

        public ConfigException(List<String> problems) {
            super("invalid worker configuration:\n  - " + String.join("\n  - ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }
}
