package io.dbmigrate.activities.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** Kafka Connect's REST API, the calls dbmigrate needs. Configuration is create-or-update (PUT), so it is idempotent. */
public final class ConnectClient {
    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final OkHttpClient http;

    public ConnectClient(String baseUrl) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
        this.http = new OkHttpClient.Builder()
                .connectTimeout(5, TimeUnit.SECONDS)
                .readTimeout(70, TimeUnit.SECONDS) // Connect forwards to the leader and may take up to a minute
                .build();
    }

    /** An answer of Connect's: status code and body. */
    private record Reply(int code, String body) {
        boolean ok() {
            return code >= 200 && code < 300;
        }
    }

    /**
     * The one place requests are sent. Connect answers 409 while it rebalances or reconfigures, and 500 "a rebalance is
     * expected" just after a connector was stopped or changed: such a request is sent again, for up to 30 s. Any other
     * answer is returned; an unreachable Connect is an error.
     */
    private Reply call(Request req) {
        for (int attempt = 1; ; attempt++) {
            try (Response r = http.newCall(req).execute()) {
                String text = r.body() == null ? "" : r.body().string();
                boolean rebalancing = r.code() == 409 || (r.code() == 500 && text.contains("rebalance is expected"));
                if (rebalancing && attempt < 30) {
                    sleep(1000);
                    continue;
                }
                return new Reply(r.code(), text);
            } catch (IOException e) {
                throw new UncheckedIOException("Kafka Connect at " + baseUrl + " unreachable", e);
            }
        }
    }

    /** Sends and insists on success (or, when {@code allow404}, on an absent object). */
    private Reply send(Request req, boolean allow404) {
        Reply r = call(req);
        if (!r.ok() && !(allow404 && r.code() == 404)) {
            throw new ConnectException(req.method() + " " + req.url().encodedPath(), r.code(), r.body());
        }
        return r;
    }

    private Request.Builder at(String path) {
        return new Request.Builder().url(baseUrl + path);
    }

    private static RequestBody json(Object value) {
        try {
            return RequestBody.create(JSON.writeValueAsString(value), JSON_TYPE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates the connector or updates its configuration. */
    public void putConfig(String name, Map<String, String> config) {
        send(at("/connectors/" + name + "/config").put(json(config)).build(), false);
    }

    /**
     * Registers a connector that does not exist yet so that it starts from no stored offsets: created STOPPED, its
     * offsets (left by an earlier connector of the same name) deleted, then resumed. An existing connector gets its
     * configuration updated instead, only if it differs: Connect restarts a connector on every PUT, and a Debezium task
     * restart stalls the stream for seconds.
     */
    public void createFresh(String name, Map<String, String> config) {
        Optional<JsonNode> status = status(name);
        if (status.isPresent()) {
            if ("STOPPED".equals(status.get().path("connector").path("state").asText())) {
                // an earlier call ended between creating it stopped and resuming it (its worker died), seen in the
                // fault matrix as a stream that never started: resume it (whatever offsets it has are its own)
                resume(name);
            }
            // its status can be seen before its configuration (Connect's status and config topics are read apart, and
            // a connector created a moment ago answers 404 on /config until the herder caught up): wait a little
            Optional<Map<String, String>> held = configIfAny(name);
            for (int i = 0; held.isEmpty() && i < 50; i++) {
                sleep(200);
                held = configIfAny(name);
            }
            if (held.isEmpty() || !held.get().equals(withName(name, config))) {
                putConfig(name, config);
            }
            return;
        }
        send(at("/connectors").post(json(Map.of("name", name, "config", config, "initial_state", "STOPPED"))).build(), false);
        send(at("/connectors/" + name + "/offsets").delete().build(), true);
        resume(name);
    }

    /** The connector's configuration as Connect holds it (its name included). */
    public Map<String, String> config(String name) {
        return configIfAny(name).orElseThrow(() -> new ConnectException("GET /connectors/" + name + "/config", 404, "not found"));
    }

    private Optional<Map<String, String>> configIfAny(String name) {
        Reply r = send(at("/connectors/" + name + "/config").get().build(), true);
        if (r.code() == 404) {
            return Optional.empty();
        }
        try {
            Map<String, String> out = new java.util.TreeMap<>();
            JSON.readTree(r.body()).fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().asText()));
            return Optional.of(out);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable configuration of connector " + name, e);
        }
    }

    private static Map<String, String> withName(String name, Map<String, String> config) {
        Map<String, String> out = new java.util.TreeMap<>(config);
        out.putIfAbsent("name", name);
        return out;
    }

    /** The connector's status document, empty when no such connector exists. */
    public Optional<JsonNode> status(String name) {
        Reply r = send(at("/connectors/" + name + "/status").get().build(), true);
        if (r.code() == 404) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readTree(r.body()));
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable status of connector " + name, e);
        }
    }

    /**
     * Stops the connector, deletes its source offsets, then deletes it. Without the offsets step a later connector of
     * the same name would resume from positions whose slot no longer exists.
     */
    public boolean deleteWithOffsets(String name) {
        if (status(name).isEmpty()) {
            return false;
        }
        stop(name);
        send(at("/connectors/" + name + "/offsets").delete().build(), true);
        return delete(name);
    }

    /**
     * Stops the connector and its task and waits until Connect says STOPPED: unlike a pause, the task closes its
     * replication connection, so the slot is inactive. {@link #resume} starts it again from its offsets.
     */
    public void stop(String name) {
        send(at("/connectors/" + name + "/stop").put(json(Map.of())).build(), true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!"STOPPED".equals(status(name).map(s -> s.path("connector").path("state").asText()).orElse("STOPPED"))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("connector " + name + " did not stop within 60 s");
            }
            sleep(200);
        }
    }

    /** Restarts the connector's failed instances and tasks (Connect never does this by itself). */
    public void restartFailed(String name) {
        send(at("/connectors/" + name + "/restart?includeTasks=true&onlyFailed=true").post(json(Map.of())).build(), false);
    }

    /** Stops the connector's task from reading (the backlog waits in the slot); idempotent. */
    public void pause(String name) {
        send(at("/connectors/" + name + "/pause").put(json(Map.of())).build(), false);
    }

    /** Lets a paused or stopped connector's task read again; idempotent. */
    public void resume(String name) {
        send(at("/connectors/" + name + "/resume").put(json(Map.of())).build(), false);
    }

    /** Deletes the connector; absent is fine (idempotent). */
    public boolean delete(String name) {
        return send(at("/connectors/" + name).delete().build(), true).code() != 404;
    }

    public java.util.List<String> list() {
        try {
            java.util.List<String> names = new java.util.ArrayList<>();
            JSON.readTree(send(at("/connectors").get().build(), false).body()).forEach(n -> names.add(n.asText()));
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable connector list", e);
        }
    }

    /** RUNNING, FAILED (with the task's trace), PAUSED, UNASSIGNED, or ABSENT. */
    public String state(String name) {
        return status(name).map(s -> {
            String connector = s.path("connector").path("state").asText("UNKNOWN");
            for (JsonNode task : s.path("tasks")) {
                if ("FAILED".equals(task.path("state").asText())) {
                    return "FAILED: " + firstLine(task.path("trace").asText(""));
                }
            }
            if ("RUNNING".equals(connector) && s.path("tasks").isEmpty()) {
                return "UNASSIGNED";
            }
            return connector;
        }).orElse("ABSENT");
    }

    private static String firstLine(String trace) {
        int nl = trace.indexOf('\n');
        String first = nl < 0 ? trace : trace.substring(0, nl);
        // the root cause is more useful than the wrapper: keep the last "Caused by"
        int caused = trace.lastIndexOf("Caused by: ");
        if (caused >= 0) {
            int end = trace.indexOf('\n', caused);
            first = first + " / " + trace.substring(caused, end < 0 ? trace.length() : end);
        }
        return first;
    }


    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Connect refused a request; the message carries its answer. */
    public static final class ConnectException extends RuntimeException {
        private final int status;

        ConnectException(String call, int status, String body) {
            super("Kafka Connect " + call + " answered " + status + ": " + body);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }
}
