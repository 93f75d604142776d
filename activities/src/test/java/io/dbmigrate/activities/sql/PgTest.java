package io.dbmigrate.activities.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.model.Endpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgTest {
    /** Every connection is bounded at connect, login, statement (server side) and socket (client side). */
    @Test
    void everyConnectionHasItsTimeouts(@TempDir Path dir) throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "secret");
        Properties p = Pg.properties(new Endpoint("db.example", 5432, "shop", "app", "file:" + pw), "test");
        assertEquals("10", p.getProperty("connectTimeout"));
        assertEquals("20", p.getProperty("loginTimeout"));
        assertEquals("true", p.getProperty("tcpKeepAlive"));
        assertEquals("360", p.getProperty("socketTimeout"));
        assertEquals("-c statement_timeout=300000ms", p.getProperty("options"));
    }

    /** The server must cancel a slow statement before the client drops the socket, or the error says nothing. */
    @Test
    void theSocketBoundIsLongerThanTheStatementBound() {
        assertTrue(Pg.SOCKET_TIMEOUT.compareTo(Pg.STATEMENT_TIMEOUT) > 0);
        assertThrows(IllegalArgumentException.class, () -> Pg.timeouts(Duration.ofSeconds(60), Duration.ofSeconds(60)));
        assertThrows(IllegalArgumentException.class, () -> Pg.timeouts(Duration.ofSeconds(60), Duration.ofSeconds(30)));
    }

    @Test
    void serverSettingsBecomeOneOptionsString() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("idle_in_transaction_session_timeout", "60000ms");
        s.put("tcp_keepalives_idle", "30");
        assertEquals("-c statement_timeout=100000ms -c idle_in_transaction_session_timeout=60000ms -c tcp_keepalives_idle=30",
                Pg.timeouts(Duration.ofSeconds(100), Duration.ofSeconds(120), s).get("options"));
        // the server splits options on spaces: a value that would need escaping is refused, not mangled
        assertThrows(IllegalArgumentException.class, () -> Pg.serverOptions(Map.of("search_path", "a b")));
        assertThrows(IllegalArgumentException.class, () -> Pg.serverOptions(Map.of("x -c y", "1")));
    }
}
