package io.dbmigrate.worker;

import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.dbmigrate.workflows.codec.EncryptionCodec;
import io.temporal.api.common.v1.Payloads;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /codec/encode} and {@code /codec/decode}: the codec server protocol the Temporal UI and
 * {@code temporal --codec-endpoint} speak, a {@code Payloads} message as protobuf JSON in and out
 * ({@code {"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}}). With a token, only requests carrying
 * {@code Authorization: Bearer TOKEN} are answered; the UI's origin needs CORS because its page calls the endpoint from
 * the browser.
 */
final class CodecEndpoint implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(CodecEndpoint.class);
    /** A workflow's payloads are at most the plan's record limit each; a UI page asks for a few at a time. */
    static final int MAX_BODY_BYTES = 128 * 1024 * 1024;

    private final EncryptionCodec codec;
    private final boolean encode;
    private final Optional<byte[]> token;
    private final List<String> origins;

    CodecEndpoint(EncryptionCodec codec, boolean encode, Optional<String> token, List<String> origins) {
        this.codec = codec;
        this.encode = encode;
        this.token = token.map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8));
        this.origins = origins;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try {
            String origin = ex.getRequestHeaders().getFirst("Origin");
            if (origin != null && (origins.contains(origin) || origins.contains("*"))) {
                var h = ex.getResponseHeaders();
                h.add("Access-Control-Allow-Origin", origin);
                h.add("Vary", "Origin");
                h.add("Access-Control-Allow-Credentials", "true"); // the UI's codec setting includeCredentials
                h.add("Access-Control-Allow-Methods", "POST, OPTIONS");
                h.add("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Namespace");
            }
            if (ex.getRequestMethod().equals("OPTIONS")) {
                send(ex, 204, null); // the browser's preflight carries no credentials
                return;
            }
            if (!ex.getRequestMethod().equals("POST")) {
                ex.getResponseHeaders().add("Allow", "POST, OPTIONS");
                send(ex, 405, error("use POST"));
                return;
            }
            if (token.isPresent() && !authorized(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.getResponseHeaders().add("WWW-Authenticate", "Bearer");
                send(ex, 401, error("a bearer token is required (DBMIGRATE_CODEC_AUTH on the worker)"));
                return;
            }
            Payloads.Builder in = Payloads.newBuilder();
            try (InputStream body = ex.getRequestBody()) {
                byte[] bytes = body.readNBytes(MAX_BODY_BYTES + 1);
                if (bytes.length > MAX_BODY_BYTES) {
                    send(ex, 413, error("request larger than " + MAX_BODY_BYTES + " bytes"));
                    return;
                }
                PARSER.merge(new String(bytes, StandardCharsets.UTF_8), in);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                send(ex, 400, error("not a Payloads JSON document: " + e.getMessage()));
                return;
            }
            Payloads out;
            try {
                out = Payloads.newBuilder().addAllPayloads(encode ? codec.encode(in.getPayloadsList())
                        : codec.decode(in.getPayloadsList())).build();
            } catch (RuntimeException e) {
                log.warn("codec {} refused: {}", encode ? "encode" : "decode", e.getMessage());
                send(ex, 400, error(e.getMessage()));
                return;
            }
            ex.getResponseHeaders().add("Content-Type", "application/json");
            send(ex, 200, PRINTER.print(out));
        } finally {
            ex.close();
        }
    }

    // immutable and thread-safe: built once, not per request
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer();

    private boolean authorized(String header) {
        // constant time: the comparison must not tell how much of a guess was right
        return header != null && MessageDigest.isEqual(token.get(), header.getBytes(StandardCharsets.UTF_8));
    }

    private static String error(String message) {
        return "{\"message\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"}";
    }

    private static void send(HttpExchange ex, int code, String body) throws IOException {
        if (body == null) {
            ex.sendResponseHeaders(code, -1);
            return;
        }
        if (code != 200) {
            ex.getResponseHeaders().add("Content-Type", "application/json");
        }
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }
}
