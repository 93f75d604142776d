package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.SecretRef;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Capture for one stream: dbmigrate's objects on the capturing database (control schema with the heartbeat/marker
 * table, publication), the single-partition topic, and the Debezium connector. Every step is idempotent, and
 * {@link #teardown} removes all of it (slot included).
 */
public final class CaptureSetup {
    public static final String HEARTBEAT_TABLE = "heartbeat";
    public static final String CONVERTER_CLASS = "io.dbmigrate.connect.PgTextConverter";
    public static final String RECORD_CONVERTER_CLASS = "io.dbmigrate.connect.ChangeJsonConverter";
    public static final String DROP_BEGIN_CLASS = "io.dbmigrate.connect.DropTransactionBegin";
    public static final String TOPIC_NAMING_CLASS = "io.dbmigrate.connect.OneTopicNamingStrategy";

    private final String bootstrap;
    private final ConnectClient connect;

    public CaptureSetup(String bootstrap, ConnectClient connect) {
        this.bootstrap = bootstrap;
        this.connect = connect;
    }

    /** Creates (or completes) everything capture needs, then registers the connector (create-or-update). */
    public void prepare(StreamSpec spec) throws SQLException {
        Map<TableRef, List<String>> columns = preparePublication(spec);
        createTopic(spec.topic(), spec.recordLimit());
        connect.createFresh(spec.connectorName(), connectorConfig(spec, columns));
    }

    /**
     * Control schema and publication (before any slot: pgoutput reads the publication as of each change's position).
     * Without a slot nothing was captured yet, so whatever an earlier attempt left in Kafka or in the applied position
     * is stale and would be replayed onto the target: it goes. Returns the published roots and their columns.
     */
    public Map<TableRef, List<String>> preparePublication(StreamSpec spec) throws SQLException {
        Map<TableRef, List<String>> columns = new LinkedHashMap<>();
        boolean fresh;
        try (Connection c = Pg.connect(spec.from(), "dbmigrate-capture-setup")) {
            fresh = !Pg.exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", spec.slotName());
            List<TableRef> roots = partitionRoots(c, spec.tables());
            createControlObjects(c, spec, roots);
            for (TableRef t : roots) {
                columns.put(t, TableMeta.load(c, t).columns().keySet().stream().toList());
            }
        }
        if (fresh) {
            forgetStream(spec);
        }
        return columns;
    }

    /** The connector with its offsets, the topic and the applied position: what a stream from an older slot left. */
    public void forgetStream(StreamSpec spec) throws SQLException {
        connect.deleteWithOffsets(spec.connectorName());
        deleteTopic(spec.topic());
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-capture-setup")) {
            ApplyPosition.forget(to, ChangeApplier.applySchema(spec), spec.streamId());
        }
    }

    /** Partitions are captured through their root (publish_via_partition_root); listing both would duplicate rows. */
    static List<TableRef> partitionRoots(Connection c, List<TableRef> tables) throws SQLException {
        Set<TableRef> roots = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT n.nspname, r.relname
                  FROM pg_class t JOIN pg_namespace tn ON tn.oid = t.relnamespace,
                       LATERAL (SELECT coalesce(pg_partition_root(t.oid), t.oid) AS root) x
                  JOIN pg_class r ON r.oid = x.root JOIN pg_namespace n ON n.oid = r.relnamespace
                 WHERE tn.nspname = ? AND t.relname = ?""")) {
            for (TableRef t : tables) {
                ps.setString(1, t.schema());
                ps.setString(2, t.name());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("table " + t + " does not exist", "42P01");
                    }
                    roots.add(new TableRef(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return List.copyOf(roots);
    }

    private static void createControlObjects(Connection c, StreamSpec spec, List<TableRef> tables) throws SQLException {
        String schema = Sql.ident(spec.controlSchema());
        String heartbeat = Sql.table(spec.controlSchema(), HEARTBEAT_TABLE);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
            st.execute("CREATE TABLE IF NOT EXISTS " + heartbeat
                    + " (id int PRIMARY KEY, beat bigint NOT NULL, marker bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())");
            st.execute("INSERT INTO " + heartbeat + " (id, beat, marker) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING");
            List<String> published = new ArrayList<>(tables.stream().map(Sql::table).toList());
            published.add(heartbeat);
            String list = String.join(", ", published);
            boolean exists;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
                ps.setString(1, spec.publicationName());
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                }
            }
            if (exists) {
                st.execute("ALTER PUBLICATION " + Sql.ident(spec.publicationName()) + " SET TABLE " + list);
            } else {
                st.execute("CREATE PUBLICATION " + Sql.ident(spec.publicationName()) + " FOR TABLE " + list
                        + " WITH (publish_via_partition_root = true)");
            }
        }
    }

    private Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(p);
    }

    /**
     * One partition, so the topic's order is the source's commit order; kept a week for replays. Its
     * max.message.bytes (which overrides the broker's message.max.bytes for this topic) is the stream's record limit.
     */
    void createTopic(String topic, long recordLimit) {
        try (Admin admin = admin()) {
            NewTopic t = new NewTopic(topic, 1, (short) 1).configs(Map.of(
                    "retention.ms", Long.toString(TimeUnit.DAYS.toMillis(7)),
                    "max.message.bytes", Long.toString(recordLimit)));
            try {
                admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic " + topic + ": " + e.getCause().getMessage(), e);
                }
            }
            int partitions = untilVisible(topic, TimeUnit.SECONDS.toNanos(30), () -> admin.describeTopics(List.of(topic))
                    .allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size());
            if (partitions != 1) {
                throw new IllegalStateException("topic " + topic + " has " + partitions
                        + " partitions; dbmigrate needs exactly 1 to keep the source's commit order. Delete it and retry.");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrap + ": " + e.getMessage(), e);
        }
    }

    /** The Debezium PostgreSQL connector configuration for this stream. Holds a password reference, never a password. */
    public static Map<String, String> connectorConfig(StreamSpec spec, Map<TableRef, List<String>> columns) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        c.put("tasks.max", "1");
        c.put("database.hostname", spec.from().host());
        c.put("database.port", Integer.toString(spec.from().port()));
        c.put("database.user", spec.from().user());
        c.put("database.password", SecretRef.asConnectReference(spec.from().passwordRef()));
        c.put("database.dbname", spec.from().database());
        c.put("topic.prefix", spec.objectName());
        c.put("plugin.name", "pgoutput");
        c.put("slot.name", spec.slotName());
        c.put("publication.name", spec.publicationName());
        c.put("publication.autocreate.mode", "disabled");
        List<TableRef> captured = new ArrayList<>(columns.keySet());
        captured.add(new TableRef(spec.controlSchema(), HEARTBEAT_TABLE));
        c.put("table.include.list", captured.stream().map(CaptureSetup::tableRegex).collect(Collectors.joining(",")));
        c.put("snapshot.mode", spec.snapshot() ? "initial" : "no_data");
        // exact values: every column as PostgreSQL text (see PgTextConverter); never a silent null
        c.put("converters", "pgtext");
        c.put("pgtext.type", CONVERTER_CLASS);
        c.put("include.unknown.datatypes", "true");
        c.put("event.converting.failure.handling.mode", "fail");
        c.put("errors.tolerance", "none");
        // BEGIN/END records delimit each source transaction for the applier
        c.put("provide.transaction.metadata", "true");
        // logical decoding messages (pg_logical_emit_message) carry no rows: Debezium would send them to a topic of its
        // own (<prefix>.message) yet count a transactional one in its transaction's END, which the applier then
        // refused as a transaction with a missing change. Excluded, they are neither sent nor counted.
        c.put("message.prefix.exclude.list", ".*");
        c.put("tombstones.on.delete", "false");
        c.put("skipped.operations", "none");
        // the slot advances while captured tables are idle (FIELD-NOTES #1)
        c.put("heartbeat.interval.ms", "1000");
        c.put("heartbeat.action.query", "UPDATE " + Sql.table(spec.controlSchema(), HEARTBEAT_TABLE)
                + " SET beat = beat + 1, at = now() WHERE id = 1");
        // latency: poll.interval.ms dominates streaming lag (STACK.md: p99 1.0-1.5 s at 500 ms, 58-91 ms at 10 ms);
        // Debezium's queue waits the whole interval unless a batch fills, and spins through its last millisecond,
        // so 1 ms burns a core (measured: +0.1 core at 2,500/s) and 1-record batches fell behind at 2,500/s
        c.put("poll.interval.ms", "5");
        c.put("max.batch.size", "8192");
        c.put("max.queue.size", "32768");
        // 2 ms: Connect keeps one produce request in flight; with no linger Kafka's network thread took 0.35-0.40
        // cores at 2,500 commits/s, 0.18-0.21 with 2 ms
        c.put("producer.override.linger.ms", "2");
        // the record limit (limits.maxRecordBytes) holds at every step: the producer refuses a larger record itself
        // (RecordTooLargeException, which CaptureWatchdog reports), a batch of small records never outgrows the topic's
        // max.message.bytes, and the producer's buffer holds the largest record twice (a larger one fails like a too
        // large record). The applier's fetch sizes are soft: a larger first batch is still returned.
        long limit = spec.recordLimit();
        c.put("producer.override.batch.size", Long.toString(Math.min(1024 * 1024, limit)));
        c.put("producer.override.acks", "all");
        c.put("producer.override.enable.idempotence", "true");
        c.put("producer.override.max.request.size", Long.toString(limit));
        c.put("producer.override.buffer.memory", Long.toString(Math.max(32L * 1024 * 1024, 2 * limit)));
        // all tables, transaction records and heartbeats into one single-partition topic: its order is commit order
        c.put("topic.naming.strategy", TOPIC_NAMING_CLASS);
        c.put("dbmigrate.topic", spec.topic());
        // BEGIN records carry nothing the applier needs (END and each change's total_order do)
        c.put("transforms", "dropBegin");
        c.put("transforms.dropBegin.type", DROP_BEGIN_CLASS);
        // JsonConverter's JSON (schemas disabled), streamed without its intermediate tree
        c.put("key.converter", RECORD_CONVERTER_CLASS);
        c.put("value.converter", RECORD_CONVERTER_CLASS);
        c.put("slot.drop.on.stop", "false");
        // snapshot reads every column as text, so the snapshot path is as exact as streaming
        List<String> overridden = new ArrayList<>();
        for (Map.Entry<TableRef, List<String>> e : columns.entrySet()) {
            String key = overrideKey(e.getKey());
            if (key == null) {
                continue; // Debezium splits this list on commas: such a name cannot be overridden
            }
            overridden.add(key);
            c.put("snapshot.select.statement.overrides." + key, "SELECT "
                    + e.getValue().stream().map(col -> Sql.ident(col) + "::text AS " + Sql.ident(col)).collect(Collectors.joining(", "))
                    + " FROM " + Sql.table(e.getKey()));
        }
        if (!overridden.isEmpty()) {
            c.put("snapshot.select.statement.overrides", String.join(",", overridden));
        }
        return c;
    }

    /** Debezium's include lists are comma-separated regexes over "schema.table": escape everything but [A-Za-z0-9_]. */
    static String tableRegex(TableRef t) {
        return escapeRegex(t.schema()) + "\\." + escapeRegex(t.name());
    }

    private static String escapeRegex(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp < 128 && (Character.isLetterOrDigit(cp) || cp == '_')) {
                b.appendCodePoint(cp);
            } else if (cp <= 0xFFFF) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.append(String.format("\\x{%x}", cp));
            }
        });
        return b.toString();
    }

    static String overrideKey(TableRef t) {
        if (t.schema().contains(",") || t.name().contains(",")) {
            return null;
        }
        if (t.schema().matches("[A-Za-z0-9_]+") && t.name().matches("[A-Za-z0-9_]+")) {
            return t.schema() + "." + t.name();
        }
        return Sql.table(t);
    }

    /** Deletes the connector and topic, drops the slot, publication and control schema. Absent pieces are fine. */
    public List<String> teardown(StreamSpec spec) throws SQLException {
        List<String> removed = new ArrayList<>();
        if (connect.deleteWithOffsets(spec.connectorName())) {
            removed.add("connector " + spec.connectorName());
        }
        try (Connection c = Pg.connect(spec.from(), "dbmigrate-capture-teardown")) {
            if (dropSlot(c, spec.slotName())) {
                removed.add("slot " + spec.slotName());
            }
            try (Statement st = c.createStatement()) {
                if (Pg.exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", spec.publicationName())) {
                    st.execute("DROP PUBLICATION IF EXISTS " + Sql.ident(spec.publicationName()));
                    removed.add("publication " + spec.publicationName());
                }
                if (Pg.exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", spec.controlSchema())) {
                    st.execute("DROP SCHEMA IF EXISTS " + Sql.ident(spec.controlSchema()) + " CASCADE");
                    removed.add("schema " + spec.controlSchema());
                }
            }
        }
        if (deleteTopic(spec.topic())) {
            removed.add("topic " + spec.topic());
        }
        return removed;
    }

    /** A metadata call on a topic that may not be visible yet. */
    interface TopicCall<T> {
        T call() throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException;
    }

    /**
     * In KRaft the controller answers a create (or "already exists") before the broker's own metadata image lists the
     * topic, so a describe right after it can fail with UnknownTopicOrPartition. That is a lag, not an answer: retry it.
     */
    static <T> T untilVisible(String topic, long waitNanos, TopicCall<T> call)
            throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        long deadline = System.nanoTime() + waitNanos;
        while (true) {
            try {
                return call.call();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    boolean deleteTopic(String topic) {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            // topic deletion is asynchronous in the broker: wait until a create would not collide
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            return true;
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                throw new IllegalStateException("cannot delete topic " + topic + ": " + e.getCause().getMessage(), e);
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrap + " did not answer", e);
        }
    }

    /** A slot stays active for a moment after its connector is deleted; wait, then end only our own walsender. */
    public static boolean dropSlot(Connection c, String slot) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Integer activePid = null;
            try (PreparedStatement ps = c.prepareStatement("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    activePid = (Integer) rs.getObject(1);
                }
            }
            if (activePid == null) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                    ps.setString(1, slot);
                    ps.execute();
                    return true;
                } catch (SQLException e) {
                    if (!"55006".equals(e.getSQLState())) { // object in use: became active again
                        throw e;
                    }
                }
            } else if (System.nanoTime() > deadline) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
                    ps.setInt(1, activePid);
                    ps.execute();
                }
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while dropping slot " + slot, "57014");
            }
        }
    }
}
