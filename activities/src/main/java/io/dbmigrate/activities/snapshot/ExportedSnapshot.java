package io.dbmigrate.activities.snapshot;

import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logical slot created over a replication connection with its snapshot exported (the technique of pgcopydb and
 * PeerDB). The snapshot shows exactly the data committed before the slot's consistent point, so a copy made in it
 * and the slot's stream meet without a gap or an overlap. It lives only while this connection stays open and idle:
 * any command on it, or its end, destroys the snapshot (the slot stays).
 *
 * <p>Held per worker process in {@link #held}: a copy attempt that fails for another reason (the target restarted,
 * a statement timed out) finds the snapshot still alive on its retry and copies only what is left. A holder no
 * attempt has claimed for {@link #ORPHAN_MINUTES} is closed, so a migration that went away does not pin the source's
 * xmin for ever.
 */
public final class ExportedSnapshot implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ExportedSnapshot.class);
    static final int ORPHAN_MINUTES = 10;
    private static final Map<String, ExportedSnapshot> held = new ConcurrentHashMap<>();
    private static final ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(
            Parallel.daemon("dbmigrate-snapshot-reaper"));

    private final Connection replication;
    private final String slot;
    private final String consistentLsn;
    private final String snapshotName;
    private volatile long releasedAt;

    private ExportedSnapshot(Connection replication, String slot, String consistentLsn, String snapshotName) {
        this.replication = replication;
        this.slot = slot;
        this.consistentLsn = consistentLsn;
        this.snapshotName = snapshotName;
    }

    /** Creates the logical slot (pgoutput) and keeps its exported snapshot; fails if the slot exists already. */
    public static ExportedSnapshot create(Endpoint source, String slot) throws SQLException {
        Properties p = Pg.properties(source, "dbmigrate-snapshot-" + slot);
        p.setProperty("replication", "database");
        p.setProperty("assumeMinServerVersion", "10");
        p.setProperty("preferQueryMode", "simple");
        // idle for the whole copy by design: no socket timeout may end it
        p.setProperty("socketTimeout", "0");
        p.setProperty("tcpKeepAlive", "true");
        Connection c = DriverManager.getConnection(Pg.url(source), p);
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("CREATE_REPLICATION_SLOT " + Sql.ident(slot) + " LOGICAL pgoutput EXPORT_SNAPSHOT")) {
            rs.next();
            ExportedSnapshot s = new ExportedSnapshot(c, slot, rs.getString("consistent_point"), rs.getString("snapshot_name"));
            held.put(slot, s);
            log.info("slot {} created at {}; snapshot {} exported", slot, s.consistentLsn, s.snapshotName);
            return s;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    /** The live snapshot this process holds for the slot, if the slot's consistent point is the one expected. */
    public static ExportedSnapshot claim(String slot, String consistentLsn) {
        ExportedSnapshot s = held.get(slot);
        if (s == null || !s.consistentLsn.equals(consistentLsn) || s.isClosed()) {
            return null;
        }
        s.releasedAt = 0;
        return s;
    }

    /** Ends the snapshot this process holds for the slot, if any: the copy will not be retried (cancelled). */
    public static void discard(String slot) {
        ExportedSnapshot s = held.get(slot);
        if (s != null) {
            s.close();
        }
    }

    /** The attempt is over but the copy may be retried here: keep the snapshot a while, then let it go. */
    public void release() {
        long at = System.nanoTime();
        releasedAt = at;
        reaper.schedule(() -> {
            if (releasedAt == at) {
                log.info("exported snapshot of slot {} not claimed for {} min: closing it", slot, ORPHAN_MINUTES);
                close();
            }
        }, ORPHAN_MINUTES, TimeUnit.MINUTES);
    }

    public String slot() {
        return slot;
    }

    public String consistentLsn() {
        return consistentLsn;
    }

    public String snapshotName() {
        return snapshotName;
    }

    boolean isClosed() {
        try {
            return replication.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    /** Ends the snapshot (the slot stays: it belongs to the stream now). */
    @Override
    public void close() {
        held.remove(slot, this);
        try {
            replication.close();
        } catch (SQLException e) {
            log.debug("closing the replication connection of slot {}: {}", slot, e.getMessage());
        }
    }
}
