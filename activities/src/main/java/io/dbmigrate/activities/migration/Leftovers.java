package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Every object dbmigrate owns that is still present: slots, publications, schemas, fence triggers, connectors. */
public final class Leftovers {
    private Leftovers() {}

    public static List<String> list(Endpoint source, Endpoint target, ConnectClient connect) throws SQLException {
        List<String> out = new ArrayList<>();
        for (Endpoint e : List.of(source, target)) {
            String side = e == source ? "source" : "target";
            try (Connection c = Pg.connect(e, "dbmigrate-leftovers"); Statement st = c.createStatement()) {
                collect(st, "SELECT 'slot ' || slot_name FROM pg_replication_slots WHERE slot_name LIKE 'dbmigrate\\_%'", side, out);
                collect(st, "SELECT 'publication ' || pubname FROM pg_publication WHERE pubname LIKE 'dbmigrate\\_%'", side, out);
                collect(st, "SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname LIKE 'dbmigrate\\_%'", side, out);
                collect(st, "SELECT 'fence ' || tgname || ' on ' || tgrelid::regclass FROM pg_trigger WHERE tgname LIKE 'dbmigrate\\_%\\_fence'", side, out);
                // an exported snapshot held open holds the source's xmin (ExportedSnapshot names its session so)
                collect(st, "SELECT 'exported snapshot session ' || application_name || ' (pid ' || pid || ')' FROM pg_stat_activity"
                        + " WHERE application_name LIKE 'dbmigrate-snapshot-%'", side, out);
            }
        }
        for (String name : connect.list()) {
            if (name.startsWith("dbmigrate_")) {
                out.add("connector " + name);
            }
        }
        return out;
    }

    private static void collect(Statement st, String sql, String side, List<String> out) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(side + " " + rs.getString(1));
            }
        }
    }
}
