package io.dbmigrate.activities.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kafka Connect's transient answers are waited out; its real errors are not. A stand-in REST server on a free port. */
class ConnectClientTest {
    private HttpServer server;
    private final Deque<String[]> answers = new ArrayDeque<>();
    private final AtomicInteger requests = new AtomicInteger();

    private ConnectClient start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            String[] a = answers.size() > 1 ? answers.poll() : answers.peek();
            byte[] body = a[1].getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(Integer.parseInt(a[0]), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return new ConnectClient("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void aRebalanceExpectedAnswerIsSentAgain() throws Exception {
        answers.add(new String[] {"500", "{\"error_code\":500,\"message\":\"Request cannot be completed because a rebalance is expected\"}"});
        answers.add(new String[] {"409", "{\"error_code\":409,\"message\":\"Cannot complete request momentarily due to stale configuration\"}"});
        answers.add(new String[] {"200", "{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\"}"});
        ConnectClient c = start();
        assertEquals(Map.of("connector.class", "io.debezium.connector.postgresql.PostgresConnector"), c.config("x"));
        assertEquals(3, requests.get());
    }

    @Test
    void anyOtherServerErrorIsReportedAtOnce() throws Exception {
        answers.add(new String[] {"500", "{\"error_code\":500,\"message\":\"Failed to find any class that implements Connector\"}"});
        ConnectClient c = start();
        ConnectClient.ConnectException e = assertThrows(ConnectClient.ConnectException.class, () -> c.config("x"));
        assertEquals(1, requests.get(), e.getMessage());
    }
}
