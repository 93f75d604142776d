package io.dbmigrate.activities.connect;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** A stand-in Kafka Connect REST server on a free loopback port: each request is answered by {@code answers}. */
public final class StandInConnect implements AutoCloseable {
    /** The answer to one request. */
    public record Answer(int code, String body) {}

    /** Answers a request by its method and path. */
    @FunctionalInterface
    public interface Answers {
        Answer answer(String method, String path);
    }

    private final HttpServer server;

    public StandInConnect(Answers answers) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            Answer a = answers.answer(exchange.getRequestMethod(), exchange.getRequestURI().getPath());
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(a.code(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    public ConnectClient client() {
        return new ConnectClient("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
