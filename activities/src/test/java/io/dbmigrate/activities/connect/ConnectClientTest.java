package io.dbmigrate.activities.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kafka Connect's transient answers are waited out; its real errors are not. A stand-in REST server on a free port. */
class ConnectClientTest {
    private StandInConnect server;
    private final Deque<String[]> answers = new ArrayDeque<>();
    private final AtomicInteger requests = new AtomicInteger();

    private ConnectClient start() throws IOException {
        server = new StandInConnect((method, path) -> {
            requests.incrementAndGet();
            String[] a = answers.size() > 1 ? answers.poll() : answers.peek();
            return new StandInConnect.Answer(Integer.parseInt(a[0]), a[1]);
        });
        return server.client();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
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
