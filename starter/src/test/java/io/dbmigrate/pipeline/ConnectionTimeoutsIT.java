package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.sql.Pg;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The server takes the timeouts dbmigrate's connections ask for at login, and a statement past its bound is cancelled. */
class ConnectionTimeoutsIT {
    private static String show(Connection c, String setting) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void everyConnectionHasAStatementTimeoutTheServerEnforces() throws Exception {
        PipelineStack.get();
        try (Connection c = Pg.connect(PipelineStack.target("postgres"), "it-timeouts")) {
            assertEquals("5min", show(c, "statement_timeout"));
            assertEquals(Pg.SOCKET_TIMEOUT.toSeconds() * 1000, c.getNetworkTimeout());
        }
        try (Connection c = Pg.connect(PipelineStack.target("postgres"), "it-timeouts",
                Pg.timeouts(Duration.ofSeconds(1), Duration.ofSeconds(5)))) {
            assertEquals("1s", show(c, "statement_timeout"));
            try (Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute("SELECT pg_sleep(3)"));
                // cancelled by the server (the session stays usable), not cut by the client's socket timeout
                assertEquals("57014", e.getSQLState());
                assertEquals("1s", show(c, "statement_timeout"));
            }
        }
    }

    /** The applier's own bounds reach its session (statement, idle in transaction, server-side keepalive). */
    @Test
    void theApplierSessionGetsItsOwnBounds() throws Exception {
        PipelineStack.get();
        try (Connection c = Pg.connect(PipelineStack.target("postgres"), "it-timeouts", ChangeApplier.connectionOptions())) {
            assertEquals("100s", show(c, "statement_timeout"));
            assertEquals("1min", show(c, "idle_in_transaction_session_timeout"));
            assertEquals("30", show(c, "tcp_keepalives_idle"));
            assertEquals("10", show(c, "tcp_keepalives_interval"));
            assertEquals("3", show(c, "tcp_keepalives_count"));
            assertEquals(120_000, c.getNetworkTimeout());
        }
    }
}
