package io.dbmigrate.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpServer;
import io.dbmigrate.workflows.codec.CodecKeys;
import io.dbmigrate.workflows.codec.EncryptionCodec;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.temporal.api.common.v1.Payloads;
import io.temporal.common.converter.DefaultDataConverter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The codec server protocol on the worker's HTTP port, as the Temporal UI and CLI call it. */
class CodecEndpointTest {
    static final String KEY = CodecKeys.generate();
    final HttpClient http = HttpClient.newHttpClient();

    static HttpServer start(Map<String, String> extra) throws Exception {
        Map<String, String> env = new HashMap<>(Map.of("DBMIGRATE_TEMPORAL_TARGET", "127.0.0.1:7233",
                "DBMIGRATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092", "DBMIGRATE_CONNECT_URL", "http://127.0.0.1:8083",
                "CODEC_KEY", KEY, "DBMIGRATE_CODEC_KEY", "env:CODEC_KEY"));
        try (var free = new java.net.ServerSocket(0)) {
            env.put("DBMIGRATE_HTTP_PORT", Integer.toString(free.getLocalPort()));
        }
        env.putAll(extra);
        return WorkerMain.startHttp(WorkerConfig.load(env), null, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    HttpResponse<String> post(HttpServer s, String path, String body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.getAddress().getPort() + path))
                .header("Content-Type", "application/json").header("X-Namespace", "default")
                .header("Origin", "http://localhost:8080")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String plainPayloads() throws Exception {
        return JsonFormat.printer().print(Payloads.newBuilder()
                .addPayloads(DefaultDataConverter.STANDARD_INSTANCE.toPayload("host source.db.internal").orElseThrow()).build());
    }

    @Test
    void encodeThenDecodeRoundTripsAndDecodesWhatTheWorkerEncrypted() throws Exception {
        HttpServer s = start(Map.of("DBMIGRATE_CODEC_CORS_ORIGINS", "http://localhost:8080"));
        try {
            String plain = plainPayloads();
            HttpResponse<String> enc = post(s, "/codec/encode", plain, null);
            assertEquals(200, enc.statusCode(), enc.body());
            assertFalse(enc.body().contains(java.util.Base64.getEncoder().encodeToString("json/plain".getBytes())));
            assertEquals("http://localhost:8080", enc.headers().firstValue("Access-Control-Allow-Origin").orElse(null));

            HttpResponse<String> dec = post(s, "/codec/decode", enc.body(), null);
            assertEquals(200, dec.statusCode(), dec.body());
            Payloads.Builder back = Payloads.newBuilder();
            JsonFormat.parser().merge(dec.body(), back);
            Payloads.Builder original = Payloads.newBuilder();
            JsonFormat.parser().merge(plain, original);
            assertEquals(original.build(), back.build());

            // what the worker's own codec wrote (history) decodes here too
            Payloads sealed = Payloads.newBuilder().addAllPayloads(new EncryptionCodec(CodecKeys.parse(KEY, "k"))
                    .encode(original.getPayloadsList())).build();
            dec = post(s, "/codec/decode", JsonFormat.printer().print(sealed), null);
            assertEquals(200, dec.statusCode(), dec.body());
            assertEquals(JsonFormat.printer().print(original), dec.body());

            HttpResponse<String> bad = post(s, "/codec/decode", JsonFormat.printer().print(Payloads.newBuilder()
                    .addAllPayloads(new EncryptionCodec(CodecKeys.parse(CodecKeys.generate(), "k"))
                            .encode(original.getPayloadsList())).build()), null);
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("not among the configured codec keys"), bad.body());
        } finally {
            s.stop(0);
        }
    }

    @Test
    void aTokenIsRequiredWhenConfiguredAndOnlyTheConfiguredOriginGetsCors() throws Exception {
        HttpServer s = start(Map.of("DBMIGRATE_CODEC_AUTH", "env:CODEC_TOKEN", "CODEC_TOKEN", "t0ken",
                "DBMIGRATE_CODEC_CORS_ORIGINS", "https://temporal.example.com"));
        try {
            String plain = plainPayloads();
            assertEquals(401, post(s, "/codec/decode", plain, null).statusCode());
            assertEquals(401, post(s, "/codec/encode", plain, "Bearer wrong").statusCode());
            HttpResponse<String> ok = post(s, "/codec/encode", plain, "Bearer t0ken");
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals(200, post(s, "/codec/decode", ok.body(), "Bearer t0ken").statusCode());
            assertTrue(ok.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "http://localhost:8080 is not allowed");

            HttpResponse<Void> preflight = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/codec/decode"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://temporal.example.com")
                    .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(204, preflight.statusCode());
            assertEquals("https://temporal.example.com", preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
        } finally {
            s.stop(0);
        }
    }
}
