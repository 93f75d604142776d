package io.dbmigrate.cli.demo;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The application: inserts, updates and deletes at a fixed rate, and remembers the outcome of every write the
 * database acknowledged. A refused or failed write is retried until it lands; how long that took is the write pause
 * the application saw. When the database says it is fenced, the writer asks whether the cutover happened and, if so,
 * moves to the target; after a rollback past the cutover began, it moves back to the source the same way.
 */
public final class DemoWriter implements Runnable {
    private final Endpoint source;
    private final Endpoint target;
    private final int rate;
    private final int customers;
    private final int documents;
    private final BooleanSupplier cutoverDone;
    final AtomicBoolean running = new AtomicBoolean(true);
    /** Set from outside when the migration completed: the writer moves to the target before its next write. */
    private volatile boolean switchRequested;
    /** Set from outside when a rollback after the cutover began: the application belongs on the source again. */
    private volatile boolean backToSource;
    private Thread thread;

    // the acknowledged state, per key (null: deleted)
    private final Map<Long, String> orderTotals = new HashMap<>();
    private final Map<Long, String> customerEmails = new HashMap<>();
    private final Map<Long, Integer> docRevisions = new HashMap<>();
    private final List<Long> liveOrders = new ArrayList<>();

    volatile boolean onTarget;
    long acknowledged;
    long failed;
    long maxPauseNanos;
    private Connection conn;
    private long lastSwitchCheck;
    private java.util.Map<String, String> driverOptions = java.util.Map.of();

    DemoWriter(Endpoint source, Endpoint target, int rate, int customers, int documents, BooleanSupplier cutoverDone) {
        this.source = source;
        this.target = target;
        this.rate = rate;
        this.customers = customers;
        this.documents = documents;
        this.cutoverDone = cutoverDone;
    }

    DemoWriter withDriverOptions(java.util.Map<String, String> options) {
        this.driverOptions = java.util.Map.copyOf(options);
        return this;
    }

    public void start() {
        thread = new Thread(this, "demo-writer");
        thread.start();
    }

    /**
     * Ends the application's run: after a completed migration it moves to the target (if no refused write moved it
     * already) and keeps writing there for 3 s; then it stops. Returns the acknowledged writes that the database it
     * last wrote to does not show.
     */
    public long finish(boolean migrated) throws InterruptedException, SQLException {
        stop(migrated);
        return lost(onTarget ? target : source);
    }

    /** As {@link #finish(boolean)}, checked on {@code db}: where the writes went when a proxy chose for the writer. */
    public long finish(boolean migrated, Endpoint db) throws InterruptedException, SQLException {
        stop(migrated);
        return lost(db);
    }

    private void stop(boolean migrated) throws InterruptedException {
        if (migrated) {
            switchRequested = true;
        }
        if (migrated || backToSource) {
            Thread.sleep(3000); // the application keeps writing after the switch
        }
        running.set(false);
        thread.join(60_000);
    }

    /**
     * A rollback after the cutover began: the target will refuse writes, and the writer then moves back to the source
     * (which refuses them until the reverse stream has drained) and keeps writing there.
     */
    public void returnToSource() {
        backToSource = true;
    }

    public long acknowledged() {
        return acknowledged;
    }

    public long failed() {
        return failed;
    }

    public long maxPauseMs() {
        return Math.round(maxPauseNanos / 1e6);
    }

    @Override
    public void run() {
        long period = 1_000_000_000L / rate;
        long next = System.nanoTime();
        while (running.get()) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            next += period;
            if (switchRequested && !onTarget && !backToSource) {
                close();
                onTarget = true;
            }
            writeUntilAcknowledged();
        }
        close();
    }

    /** One logical write, retried until the database acknowledges it. */
    private void writeUntilAcknowledged() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int kind = r.nextInt(100);
        long key = kind < 50 ? 0 : kind < 75 ? 1 + r.nextInt(customers) : kind < 90 ? 1 + r.nextInt(documents)
                : liveOrders.isEmpty() ? 0 : liveOrders.get(r.nextInt(liveOrders.size()));
        if (kind >= 90 && key == 0) {
            kind = 0;
        }
        String value = Long.toString(r.nextLong(1, 1_000_000));
        long started = System.nanoTime();
        while (running.get() || System.nanoTime() - started < 30_000_000_000L) {
            try {
                attempt(kind, key, value);
                acknowledged++;
                maxPauseNanos = Math.max(maxPauseNanos, System.nanoTime() - started);
                return;
            } catch (SQLException e) {
                failed++;
                rollbackQuietly();
                if ("55000".equals(e.getSQLState()) || e.getSQLState() == null || e.getSQLState().startsWith("08")) {
                    maybeSwitch();
                }
                if (e.getSQLState() == null || e.getSQLState().startsWith("08")) {
                    close();
                }
                LockSupport.parkNanos(5_000_000);
            }
        }
    }

    private void attempt(int kind, long key, String value) throws SQLException {
        Connection c = connection();
        if (kind < 50) {
            long id;
            String total = value.substring(0, Math.min(5, value.length())) + ".25";
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (customer_id, status, total, placed_at, note) "
                    + "VALUES (?, 'new', ?::numeric, now(), 'live') RETURNING id")) {
                ps.setLong(1, 1 + ThreadLocalRandom.current().nextInt(customers));
                ps.setString(2, total);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO order_items VALUES (?, ?, 'LIVE', ?, 1.50)")) {
                for (int line = 1; line <= 2; line++) {
                    ps.setLong(1, id);
                    ps.setInt(2, line);
                    ps.setInt(3, line);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
            orderTotals.put(id, total);
            liveOrders.add(id);
        } else if (kind < 75) {
            String email = "live" + value + "@example.com";
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE customers SET email = ?, profile = jsonb_set(coalesce(profile, '{}'), '{v}', to_jsonb(?::bigint)) WHERE id = ?")) {
                ps.setString(1, email);
                ps.setString(2, value);
                ps.setLong(3, key);
                ps.executeUpdate();
            }
            c.commit();
            customerEmails.put(key, email);
        } else if (kind < 90) {
            int revision;
            // leaves the large TOASTed body unchanged: the trap of FIELD-NOTES #2
            try (PreparedStatement ps = c.prepareStatement("UPDATE documents SET revision = revision + 1, updated_at = now() WHERE id = ? RETURNING revision")) {
                ps.setLong(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    revision = rs.getInt(1);
                }
            }
            c.commit();
            docRevisions.put(key, revision);
        } else {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM orders WHERE id = ?")) {
                ps.setLong(1, key);
                ps.executeUpdate();
            }
            c.commit();
            orderTotals.put(key, null);
            liveOrders.remove(key);
        }
    }

    private void maybeSwitch() {
        if (System.nanoTime() - lastSwitchCheck < 20_000_000L) {
            return;
        }
        lastSwitchCheck = System.nanoTime();
        boolean wantTarget = !backToSource && (onTarget || switchRequested || cutoverDone.getAsBoolean());
        if (wantTarget != onTarget) {
            close();
            onTarget = wantTarget;
        }
    }

    private Connection connection() throws SQLException {
        if (conn == null) {
            conn = Pg.connect(onTarget ? target : source, "demo-app", driverOptions);
            conn.setAutoCommit(false);
        }
        return conn;
    }

    private void rollbackQuietly() {
        try {
            if (conn != null) {
                conn.rollback();
            }
        } catch (SQLException e) {
            close();
        }
    }

    private void close() {
        try {
            if (conn != null) {
                conn.close();
            }
        } catch (SQLException ignored) {
            // gone already
        }
        conn = null;
    }

    /** Acknowledged writes whose outcome the database does not show. */
    long lost(Endpoint db) throws SQLException {
        long lost = 0;
        try (Connection c = Pg.connect(db, "demo-verify"); Statement st = c.createStatement()) {
            Map<Long, String> totals = new HashMap<>();
            Map<Long, Integer> items = new HashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT o.id, o.total::text, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) FROM orders o WHERE note = 'live'")) {
                while (rs.next()) {
                    totals.put(rs.getLong(1), rs.getString(2));
                    items.put(rs.getLong(1), rs.getInt(3));
                }
            }
            for (Map.Entry<Long, String> e : orderTotals.entrySet()) {
                String actual = totals.get(e.getKey());
                if (e.getValue() == null ? actual != null : !e.getValue().equals(actual) || items.get(e.getKey()) != 2) {
                    lost++;
                }
            }
            Map<Long, String> emails = new HashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT id, email FROM customers")) {
                while (rs.next()) {
                    emails.put(rs.getLong(1), rs.getString(2));
                }
            }
            for (Map.Entry<Long, String> e : customerEmails.entrySet()) {
                if (!Objects.equals(e.getValue(), emails.get(e.getKey()))) {
                    lost++;
                }
            }
            Map<Long, Integer> revisions = new HashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT id, revision FROM documents WHERE length(body) > 0")) {
                while (rs.next()) {
                    revisions.put(rs.getLong(1), rs.getInt(2));
                }
            }
            for (Map.Entry<Long, Integer> e : docRevisions.entrySet()) {
                if (!Objects.equals(e.getValue(), revisions.get(e.getKey()))) {
                    lost++;
                }
            }
        }
        return lost;
    }
}
