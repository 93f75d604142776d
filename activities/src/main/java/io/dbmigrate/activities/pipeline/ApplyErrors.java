package io.dbmigrate.activities.pipeline;

import java.sql.SQLException;
import java.sql.SQLTransientException;

/** Which database errors a retry can fix. Everything else is a data error and stops the pipeline. */
final class ApplyErrors {
    private ApplyErrors() {}

    static boolean isTransient(SQLException e) {
        if (e instanceof SQLTransientException) {
            return true;
        }
        String state = e.getSQLState();
        if (state == null) {
            return true; // I/O failure below the protocol: the connection is gone
        }
        return state.startsWith("08") // connection exception
                || state.equals("40001") || state.equals("40P01") // serialization failure, deadlock
                || state.startsWith("53") // insufficient resources
                || state.equals("57P01") || state.equals("57P02") || state.equals("57P03") // shutdown, cannot connect now
                || state.equals("55P03") // lock not available
                || state.equals("57014"); // statement timeout / cancel
    }
}
