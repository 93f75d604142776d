package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dbmigrate.activities.pipeline.CaptureSetup;
import io.dbmigrate.worker.WorkerConfig;
import io.dbmigrate.workflows.workflow.MigrationWorkflow;
import io.dbmigrate.workflows.workflow.SearchAttributes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * deploy/compose and deploy/k8s, parsed as YAML (no Docker or kubectl needed), against the code they deploy: required
 * fields, images and ports, the worker's environment names (WorkerConfig), versions (pom.xml), the Connect settings
 * dbmigrate's connector needs (CaptureSetup), the secrets mounted (declared, and at the same path in the worker and
 * Connect, since a plan's passwordRef must resolve on both) and the search attributes the workflow upserts.
 */
class DeploymentManifestsTest {
    static final Path ROOT = StackLayout.findRepoRoot(Path.of(""));
    static final Path COMPOSE = ROOT.resolve("deploy/compose");
    static final Path K8S = ROOT.resolve("deploy/k8s");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final int WORKER_HTTP = 9464;
    static final int TEMPORAL_FRONTEND = 7233;
    static final int KAFKA = 9092;
    static final int CONNECT_REST = 8083;

    static String pomProperty(String name) throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(ROOT.resolve("pom.xml").toFile());
        return pom.getElementsByTagName(name).item(0).getTextContent().trim();
    }

    static JsonNode compose() throws IOException {
        return YAML.readTree(COMPOSE.resolve("docker-compose.yml").toFile());
    }

    /** Every document of every deploy/k8s manifest, and the objects Temporal's values add (extraObjects), by file. */
    static Map<String, List<JsonNode>> k8sDocuments() throws IOException {
        Map<String, List<JsonNode>> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                if (f.getFileName().toString().equals("temporal-values.yaml")) {
                    continue;
                }
                List<JsonNode> docs = new ArrayList<>();
                YAML.readerFor(JsonNode.class).readValues(f.toFile()).forEachRemaining(d -> docs.add((JsonNode) d));
                out.put(f.getFileName().toString(), docs);
            }
        }
        List<JsonNode> extra = new ArrayList<>();
        for (JsonNode o : temporalValues().path("extraObjects")) {
            extra.add(YAML.readTree(o.asText()));
        }
        out.put("temporal-values.yaml extraObjects", extra);
        return out;
    }

    static JsonNode temporalValues() throws IOException {
        return YAML.readTree(K8S.resolve("temporal-values.yaml").toFile());
    }

    static JsonNode k8s(String kind, String name) throws IOException {
        for (List<JsonNode> docs : k8sDocuments().values()) {
            for (JsonNode d : docs) {
                if (d.path("kind").asText().equals(kind) && d.path("metadata").path("name").asText().equals(name)) {
                    return d;
                }
            }
        }
        throw new AssertionError("no " + kind + " " + name + " in deploy/k8s");
    }

    static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode e = container.path("env").isMissingNode() ? container.path("environment") : container.path("env");
        if (e.isArray()) {
            e.forEach(v -> env.put(v.path("name").asText(), v.path("value").asText()));
        } else {
            e.fields().forEachRemaining(f -> env.put(f.getKey(), f.getValue().asText()));
        }
        return env;
    }

    static int port(String hostPort) {
        Matcher m = Pattern.compile(":(\\d+)/?$").matcher(hostPort);
        assertTrue(m.find(), hostPort + " has no port");
        return Integer.parseInt(m.group(1));
    }

    static JsonNode workerContainer() throws IOException {
        JsonNode containers = k8s("Deployment", "dbmigrate-worker").at("/spec/template/spec/containers");
        assertEquals(1, containers.size());
        return containers.get(0);
    }

    @Test
    void everyKubernetesObjectHasItsRequiredFieldsAndEveryContainerAnImage() throws IOException {
        List<String> problems = new ArrayList<>();
        k8sDocuments().forEach((file, docs) -> {
            assertFalse(docs.isEmpty(), file + " holds no object");
            for (JsonNode d : docs) {
                String what = file + " " + d.path("kind").asText("?") + " " + d.at("/metadata/name").asText("?");
                for (String field : List.of("/apiVersion", "/kind", "/metadata/name")) {
                    if (d.at(field).asText().isBlank()) {
                        problems.add(what + ": no " + field);
                    }
                }
                if (!d.has("spec") && !d.has("stringData") && !d.has("data")) {
                    problems.add(what + ": neither spec nor data");
                }
                for (JsonNode c : d.at("/spec/template/spec/containers")) {
                    if (c.path("image").asText().isBlank() || c.path("name").asText().isBlank()) {
                        problems.add(what + ": a container without name or image");
                    }
                    if (d.path("kind").asText().equals("Deployment") && c.path("ports").isEmpty()) {
                        problems.add(what + ": container " + c.path("name").asText() + " declares no port");
                    }
                }
            }
        });
        JsonNode services = compose().path("services");
        services.fields().forEachRemaining(s -> {
            if (s.getValue().path("image").asText().isBlank()) {
                problems.add("compose service " + s.getKey() + ": no image");
            }
        });
        assertEquals(List.of(), problems);
        assertTrue(services.has("temporal") && services.has("temporal-ui") && services.has("kafka")
                && services.has("connect") && services.has("worker"), "compose runs Temporal, its UI, Kafka, Connect, the worker");
    }

    /** The worker reads only the names WorkerConfig knows; a renamed setting would leave a manifest silently ignored. */
    @Test
    void theWorkersEnvironmentIsWhatWorkerConfigReadsWithTheCodesPortsAndQueue(@TempDir Path tmp) throws IOException {
        Map<String, Map<String, String>> workers = new LinkedHashMap<>();
        workers.put("compose", env(compose().at("/services/worker")));
        workers.put("k8s", env(workerContainer()));
        for (var w : workers.entrySet()) {
            Map<String, String> env = w.getValue();
            Set<String> unknown = new TreeSet<>(env.keySet());
            unknown.removeIf(n -> !n.startsWith("DBMIGRATE_") || WorkerConfig.environmentNames().contains(n));
            assertEquals(Set.of(), unknown, w.getKey() + ": variables the worker does not read");
            for (String required : List.of("DBMIGRATE_TEMPORAL_TARGET", "DBMIGRATE_KAFKA_BOOTSTRAP", "DBMIGRATE_CONNECT_URL")) {
                assertTrue(env.containsKey(required), w.getKey() + ": " + required + " is required");
            }
            WorkerConfig c = WorkerConfig.load(withCodecSecretsAt(env, tmp)); // every value well-formed for the worker
            assertEquals(WorkerConfig.DEFAULT_HTTP_PORT, c.httpPort(), w.getKey());
            assertEquals(WORKER_HTTP, c.httpPort());
            assertEquals("0.0.0.0", c.httpBind(), w.getKey() + ": probes and the scrape come from outside the container");
            assertEquals(MigrationWorkflow.TASK_QUEUE, c.taskQueue(), w.getKey());
            assertEquals(TEMPORAL_FRONTEND, port(c.temporalTarget()), w.getKey());
            assertEquals(KAFKA, port(c.kafkaBootstrap()), w.getKey());
            assertEquals(CONNECT_REST, port(c.connectUrl()), w.getKey());
            assertTrue(c.stickyExecution(), w.getKey() + ": a real server redispatches from a dead worker's sticky queue");
        }
        assertTrue(workers.get("compose").get("DBMIGRATE_TEMPORAL_TARGET").startsWith("temporal:"));
        assertTrue(workers.get("compose").get("DBMIGRATE_KAFKA_BOOTSTRAP").startsWith("kafka:"));
        assertTrue(workers.get("compose").get("DBMIGRATE_CONNECT_URL").startsWith("http://connect:"));
        // the Helm release's frontend and Strimzi's services are named after their resources
        assertTrue(workers.get("k8s").get("DBMIGRATE_KAFKA_BOOTSTRAP").startsWith(
                k8s("Kafka", "dbmigrate").at("/metadata/name").asText() + "-kafka-bootstrap."));
        assertTrue(workers.get("k8s").get("DBMIGRATE_CONNECT_URL").startsWith(
                "http://" + k8s("KafkaConnect", "dbmigrate-connect").at("/metadata/name").asText() + "-connect-api."));
        assertTrue(workers.get("k8s").get("DBMIGRATE_TEMPORAL_TARGET").startsWith("temporal-frontend."));
    }

    /**
     * The manifests' codec references point into a secret mounted in the container; here the same names resolve to
     * files written for the test, so the worker's own validation reads a key and a token as it would in the pod.
     */
    static Map<String, String> withCodecSecretsAt(Map<String, String> env, Path dir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>(env);
        for (String name : List.of("DBMIGRATE_CODEC_KEY", "DBMIGRATE_CODEC_AUTH")) {
            String ref = env.get(name);
            if (ref == null) {
                continue;
            }
            assertTrue(ref.startsWith("file:"), name + " is a file reference into a mounted secret: " + ref);
            Path file = dir.resolve(Path.of(ref.substring("file:".length())).getFileName());
            Files.writeString(file, name.endsWith("KEY") ? Base64.getEncoder().encodeToString(new byte[32]) : "token");
            out.put(name, "file:" + file);
        }
        return out;
    }

    /** The mount path of the worker container's volume that holds the named Secret (k8s). */
    static String workerSecretMount(String secretName) throws IOException {
        for (JsonNode v : k8s("Deployment", "dbmigrate-worker").at("/spec/template/spec/volumes")) {
            if (v.at("/secret/secretName").asText().equals(secretName)) {
                for (JsonNode m : workerContainer().path("volumeMounts")) {
                    if (m.path("name").equals(v.path("name"))) {
                        return m.path("mountPath").asText();
                    }
                }
            }
        }
        throw new AssertionError("the worker does not mount Secret " + secretName);
    }

    /**
     * History is encrypted in both deployments: the worker's codec key (and in k8s the endpoint's token) come from a
     * secret the worker mounts and Kafka Connect does not; compose's UI decodes through the worker's published endpoint,
     * whose CORS allows the UI's origin.
     */
    @Test
    void theWorkerEncryptsHistoryWithAKeyOnlyItMounts() throws IOException {
        JsonNode services = compose().path("services");
        Map<String, String> composeEnv = env(services.path("worker"));
        assertEquals("file:/run/secrets/codec-key", composeEnv.get("DBMIGRATE_CODEC_KEY"));
        assertTrue(services.at("/worker/secrets").toString().contains("\"codec-key\""));
        assertFalse(services.at("/connect/secrets").toString().contains("codec"), "Connect never sees the codec key");
        String ui = env(services.path("temporal-ui")).get("TEMPORAL_CODEC_ENDPOINT");
        assertEquals("http://localhost:" + WORKER_HTTP + "/codec", ui, "the UI's codec endpoint is the worker's");
        assertTrue(services.at("/worker/ports").toString().contains("127.0.0.1:" + WORKER_HTTP + ":" + WORKER_HTTP),
                "the codec endpoint decodes every history: published on loopback only");
        String uiOrigin = env(services.path("temporal-ui")).get("TEMPORAL_CORS_ORIGINS");
        assertTrue(List.of(composeEnv.get("DBMIGRATE_CODEC_CORS_ORIGINS").split(",")).contains(uiOrigin),
                "the browser's calls from the UI's origin are allowed");

        Map<String, String> k8sEnv = env(workerContainer());
        String mount = workerSecretMount("dbmigrate-codec");
        for (String name : List.of("DBMIGRATE_CODEC_KEY", "DBMIGRATE_CODEC_AUTH")) {
            assertTrue(k8sEnv.getOrDefault(name, "").startsWith("file:" + mount + "/"), name + " reads the codec Secret");
        }
        JsonNode secret = k8s("Secret", "dbmigrate-codec");
        assertTrue(secret.at("/stringData").has("codec-key") && secret.at("/stringData").has("codec-auth"));
        assertFalse(k8s("KafkaConnect", "dbmigrate-connect").at("/spec/template").toString().contains("dbmigrate-codec"),
                "Connect never mounts the codec Secret");
    }

    @Test
    void portsProbesAndScrapeMatchTheCodesDefaults() throws IOException {
        JsonNode deployment = k8s("Deployment", "dbmigrate-worker");
        JsonNode c = workerContainer();
        assertEquals(WORKER_HTTP, c.at("/ports/0/containerPort").asInt());
        String portName = c.at("/ports/0/name").asText();
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
            assertEquals("/health", c.at("/" + probe + "/httpGet/path").asText(), probe);
            assertEquals(portName, c.at("/" + probe + "/httpGet/port").asText(), probe);
        }
        JsonNode annotations = deployment.at("/spec/template/metadata/annotations");
        assertEquals("true", annotations.path("prometheus.io/scrape").asText());
        assertEquals(Integer.toString(WORKER_HTTP), annotations.path("prometheus.io/port").asText());
        assertEquals("/metrics", annotations.path("prometheus.io/path").asText());
        assertTrue(c.at("/resources/requests").has("memory") && c.at("/resources/limits").has("memory"), "worker resources");

        JsonNode services = compose().path("services");
        assertTrue(services.at("/worker/ports").toString().contains(WORKER_HTTP + ":" + WORKER_HTTP));
        assertTrue(services.at("/worker/healthcheck/test").toString().contains(WORKER_HTTP + ""));
        assertTrue(services.at("/temporal/ports").toString().contains(TEMPORAL_FRONTEND + ":" + TEMPORAL_FRONTEND));
        assertTrue(services.at("/connect/ports").toString().contains(CONNECT_REST + ":" + CONNECT_REST));
        assertTrue(env(services.path("kafka")).get("KAFKA_ADVERTISED_LISTENERS").contains("kafka:" + KAFKA));
        assertEquals(TEMPORAL_FRONTEND, temporalValues().at("/server/frontend/service/port").asInt());
        assertEquals(KAFKA, k8s("Kafka", "dbmigrate").at("/spec/kafka/listeners/0/port").asInt());
        assertEquals(CONNECT_REST, k8s("NetworkPolicy", "dbmigrate-worker-to-connect").at("/spec/ingress/0/ports/0/port").asInt());
    }

    /** Kafka and Debezium in the images are the versions the code is built and tested with. */
    @Test
    void imageVersionsMatchThePom() throws Exception {
        String kafka = pomProperty("kafka.version");
        String debezium = pomProperty("debezium.version");
        JsonNode services = compose().path("services");
        assertEquals("apache/kafka:" + kafka, services.at("/kafka/image").asText());
        assertEquals(debezium, services.at("/connect/build/args/DEBEZIUM_VERSION").asText());
        assertTrue(services.at("/connect/image").asText().endsWith(":" + debezium));
        String dockerfile = Files.readString(COMPOSE.resolve("connect/Dockerfile"));
        assertTrue(dockerfile.contains("ARG DEBEZIUM_VERSION=" + debezium + "\n"), "connect/Dockerfile's default Debezium");
        assertTrue(dockerfile.contains("FROM quay.io/debezium/connect:${DEBEZIUM_VERSION}"));

        assertEquals(kafka, k8s("Kafka", "dbmigrate").at("/spec/kafka/version").asText());
        JsonNode connect = k8s("KafkaConnect", "dbmigrate-connect");
        assertEquals(kafka, connect.at("/spec/version").asText());
        assertTrue(connect.at("/spec/build/output/image").asText().endsWith(":" + debezium));
        String debeziumUrl = connect.at("/spec/build/plugins/0/artifacts/0/url").asText();
        assertTrue(debeziumUrl.endsWith("/io/debezium/debezium-connector-postgres/" + debezium
                + "/debezium-connector-postgres-" + debezium + "-plugin.tar.gz"), debeziumUrl);

        // one Temporal version across compose, its tools and the Helm values
        JsonNode values = temporalValues();
        String server = values.at("/server/image/tag").asText();
        assertEquals("temporalio/server:" + server, services.at("/temporal/image").asText());
        assertEquals("temporalio/admin-tools:" + server, services.at("/temporal-schema/image").asText());
        assertEquals("temporalio/admin-tools:" + server, services.at("/temporal-register/image").asText());
        assertEquals(server, values.at("/admintools/image/tag").asText());
        assertEquals("temporalio/ui:" + values.at("/web/image/tag").asText(), services.at("/temporal-ui/image").asText());
    }

    /**
     * The converter classes dbmigrate's connector names (CaptureSetup) load with Debezium's own class loader, and the
     * worker settings its connector config needs are on: client overrides and the dir/env config providers.
     */
    @Test
    void connectHasWhatDbmigratesConnectorConfigNeeds() throws IOException {
        Map<String, String> needed = Map.of(
                "connector.client.config.override.policy", "All",
                "config.providers", "dir,env",
                "config.providers.dir.class", "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                "config.providers.env.class", "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
                "offset.flush.interval.ms", "1000");
        Map<String, String> composeEnv = env(compose().at("/services/connect"));
        JsonNode strimzi = k8s("KafkaConnect", "dbmigrate-connect").at("/spec/config");
        needed.forEach((key, value) -> {
            assertEquals(value, composeEnv.get("CONNECT_" + key.toUpperCase().replace('.', '_')), "compose connect: " + key);
            assertEquals(value, strimzi.path(key).asText(), "KafkaConnect: " + key);
        });
        assertTrue(Files.readString(COMPOSE.resolve("connect/Dockerfile")).contains(
                "/kafka/connect/debezium-connector-postgres/dbmigrate-connect-plugin.jar"), "the converter beside Debezium");
        JsonNode plugins = k8s("KafkaConnect", "dbmigrate-connect").at("/spec/build/plugins");
        assertEquals(1, plugins.size(), "Debezium and the converter in one plugin (one class loader)");
        assertTrue(plugins.get(0).path("artifacts").toString().contains("dbmigrate-connect-plugin"));
        assertTrue(CaptureSetup.CONVERTER_CLASS.startsWith("io.dbmigrate.connect."), "the converter ships in connect-plugin");
        assertEquals("false", k8s("KafkaConnect", "dbmigrate-connect").at("/metadata/annotations")
                .path("strimzi.io/use-connector-resources").asText(), "dbmigrate creates its connectors through REST");
        // CaptureSetup creates each change topic with one replica and produces with acks=all
        assertTrue(k8s("Kafka", "dbmigrate").at("/spec/kafka/config/min.insync.replicas").asInt(1) <= 1,
                "min.insync.replicas above the change topic's replica count refuses every write to it");
    }

    /** Every secret mounted is declared, and the worker and Connect see the credentials at the same path. */
    @Test
    void everyMountedSecretIsDeclaredAndTheCredentialsPathIsSharedByWorkerAndConnect() throws IOException {
        JsonNode compose = compose();
        Set<String> declared = new TreeSet<>();
        compose.path("secrets").fieldNames().forEachRemaining(declared::add);
        List<String> problems = new ArrayList<>();
        compose.path("services").fields().forEachRemaining(s -> s.getValue().path("secrets").forEach(ref -> {
            String name = ref.isTextual() ? ref.asText() : ref.path("source").asText();
            if (!declared.contains(name)) {
                problems.add("compose " + s.getKey() + " mounts undeclared secret " + name);
            }
        }));
        for (String name : declared) {
            String file = compose.at("/secrets/" + name + "/file").asText();
            assertFalse(file.isBlank(), "compose secret " + name + " comes from a file");
        }
        List<String> workerCredentials = new ArrayList<>();
        compose.at("/services/worker/secrets").forEach(n -> workerCredentials.add(n.asText()));
        workerCredentials.remove("codec-key");
        List<String> connectCredentials = new ArrayList<>();
        compose.at("/services/connect/secrets").forEach(n -> connectCredentials.add(n.asText()));
        assertEquals(workerCredentials, connectCredentials,
                "compose: the worker and Connect mount the same credentials (both at /run/secrets/NAME)");

        Set<String> k8sSecrets = new TreeSet<>();
        List<String> mounted = new ArrayList<>();
        for (List<JsonNode> docs : k8sDocuments().values()) {
            for (JsonNode d : docs) {
                if (d.path("kind").asText().equals("Secret")) {
                    k8sSecrets.add(d.at("/metadata/name").asText());
                }
                d.at("/spec/template/spec/volumes").forEach(v -> mounted.add(v.at("/secret/secretName").asText()));
                d.at("/spec/template/pod/volumes").forEach(v -> mounted.add(v.at("/secret/secretName").asText()));
            }
        }
        temporalValues().at("/server/config/persistence/datastores").forEach(ds ->
                mounted.add(ds.at("/sql/existingSecret").asText()));
        mounted.removeIf(String::isBlank);
        assertFalse(mounted.isEmpty());
        for (String m : mounted) {
            if (!k8sSecrets.contains(m)) {
                problems.add("k8s mounts undeclared secret " + m);
            }
        }
        assertEquals(List.of(), problems);

        JsonNode connect = k8s("KafkaConnect", "dbmigrate-connect").at("/spec/template");
        String workerPath = workerSecretMount(connect.at("/pod/volumes/0/secret/secretName").asText());
        assertEquals(workerPath, connect.at("/connectContainer/volumeMounts/0/mountPath").asText(),
                "a plan's passwordRef file:PATH must resolve on the worker and on Connect");
    }

    /** The four search attributes the starter sets and the workflow upserts are registered by both deployments. */
    @Test
    void bothDeploymentsRegisterTheSearchAttributesTheWorkflowUses() throws IOException {
        String compose = Files.readString(COMPOSE.resolve("temporal/register.sh"));
        String helm = temporalValues().path("extraObjects").toString();
        for (var key : SearchAttributes.ALL) {
            assertTrue(compose.contains(key.getName()), "register.sh: " + key.getName());
            assertTrue(helm.contains(key.getName()), "temporal-values.yaml: " + key.getName());
        }
        assertTrue(compose.contains("--type Keyword") && helm.contains("--type Keyword"));
        assertEquals("./temporal/register.sh:/scripts/register.sh:ro",
                compose().at("/services/temporal-register/volumes/0").asText());
        assertEquals("default", temporalValues().at("/server/config/namespaces/namespace/0/name").asText());
    }
}
