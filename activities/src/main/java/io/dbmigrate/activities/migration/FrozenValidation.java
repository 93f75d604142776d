package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.ApplyPosition;
import io.dbmigrate.activities.pipeline.CaptureSetup;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.activities.pipeline.ChangeEvent;
import io.dbmigrate.activities.pipeline.TableMeta;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validation inside the write freeze, re-reading only what can have changed since the last live pass that passed.
 *
 * <p>Why it is still a proof: the live pass found every row equal (after its re-checks) with the stream applied up to
 * topic offset O, read before the pass read anything ({@link ValidationMark}). A row whose state changed on the
 * source afterwards was changed by a transaction committed after every transaction applied at O, so that change is
 * in the topic after O (one ordered partition, in commit order). Every write the applier made on the target after
 * the mark also comes from the topic after O, and nothing else writes the target before the switch. So a key the
 * topic does not touch after O is still equal on both sides; the keys it touches are compared now, exactly, under
 * the freeze (which runs after the cutover's drain: everything the source committed is applied). Whatever cannot be
 * reduced to keys with certainty (no mark, a truncate, snapshot rows, an unreadable record, a table without a primary
 * key, a mark from another topic or one whose records retention removed) is checked whole, as before.
 */
public final class FrozenValidation {
    private static final Logger log = LoggerFactory.getLogger(FrozenValidation.class);
    /** Bounds the keys held in memory per table; more than a tenth of a table is cheaper to read whole anyway. */
    static final int MAX_KEYS_PER_TABLE = 1_000_000;
    /**
     * Up to this many touched keys a table is checked by key whatever its size (one join per side): at 500 writes/s
     * the demo touches about 6,000 keys of a 45,000-row table between the live pass and the pause, which read whole
     * made the frozen pass last about a second.
     */
    static final int KEYS_ALWAYS_BY_KEY = 10_000;
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

    private FrozenValidation() {}

    /** What a live pass read before it read any row: the applied offset and the topic it belongs to. */
    public record Start(long kafkaOffset, String topicId, Instant takenAt) {}

    /**
     * Called before a live pass reads anything: removes the stream's mark (the pass proves nothing until it has
     * passed) and returns where the stream stands, or null when no mark can be taken (nothing applied yet, no Kafka).
     */
    public static Start beginLive(StreamSpec spec, String bootstrap) throws SQLException {
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-validate")) {
            ValidationMark.forget(to, ChangeApplier.applySchema(spec), spec.streamId());
        }
        return position(spec, bootstrap);
    }

    /** Where the stream stands now (the applied offset, the topic), or null when no mark can be taken. */
    private static Start position(StreamSpec spec, String bootstrap) throws SQLException {
        ApplyPosition p;
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-validate")) {
            p = ApplyPosition.read(to, ChangeApplier.applySchema(spec), spec.streamId()).orElse(ApplyPosition.initial());
        }
        if (p.kafkaOffset() < 0 || bootstrap == null) {
            return null;
        }
        try {
            return new Start(p.kafkaOffset(), topicId(bootstrap, spec.topic()), Instant.now());
        } catch (RuntimeException e) {
            log.warn("{}: no validation mark (the frozen validation will read every table): {}", spec.streamId(), e.toString());
            return null;
        }
    }

    /** Called when the whole live pass over {@code tables} passed: stores the mark taken at its start. */
    public static void livePassed(StreamSpec spec, Start start, List<TableRef> tables) throws SQLException {
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-validate")) {
            new ValidationMark(start.kafkaOffset(), start.topicId(), tables, start.takenAt())
                    .write(to, ChangeApplier.applySchema(spec), spec.streamId());
        }
    }

    static String topicId(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) KAFKA_TIMEOUT.toMillis());
        try (Admin admin = Admin.create(p)) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .get(topic).topicId().toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrap + ": " + e.getMessage(), e);
        }
    }

    /** What the frozen pass re-checks, per table: its touched keys, or a full check and why. */
    public record Plan(TouchedKeys touched, Map<TableRef, String> fullReasons, long records) {}

    /**
     * Inside the write freeze, right after the drain: each table by the keys the topic touched since the mark, or whole
     * (see the class comment for when). {@code parallelism} tables at a time.
     */
    public static List<TableValidation> run(Endpoint source, Endpoint target, StreamSpec spec, List<TableRef> tables, int chunkRows,
            String bootstrap, int parallelism, Consumer<String> progress) throws SQLException {
        long t0 = System.nanoTime();
        Plan plan = plan(source, spec, tables, bootstrap, progress);
        long planned = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(parallelism);
        try {
            List<Future<TableValidation>> running = new ArrayList<>();
            for (TableRef t : tables) {
                String why = plan.fullReasons().get(t);
                running.add(pool.submit(() -> why == null ? byKeys(source, target, spec, t, plan.touched().keys(t), chunkRows)
                        : MigrationValidation.whole(source, target, t, chunkRows, null, spec.redactsValues(),
                                () -> progress.accept(t + ": validating whole"))));
            }
            List<TableValidation> out = new ArrayList<>();
            for (Future<TableValidation> f : running) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof SQLException sql) {
                        throw sql;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", "57014");
                }
                progress.accept(out.size() + "/" + tables.size() + " tables validated");
            }
            // inside the write pause: where its time went
            log.info("{}: frozen validation planned in {} ms ({} topic records since the mark), tables checked in {} ms",
                    spec.streamId(), (planned - t0) / 1_000_000, plan.records(), (System.nanoTime() - planned) / 1_000_000);
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Just before the pause, writes still running: the keys the topic touched since the mark are re-checked live
     * ({@link Validator#liveKeys}; a table the plan reads whole gets the engine's live pass), and when all agree the mark
     * moves to where this pass began. The frozen pass inside the pause then reads only the changes made since, a
     * second or so instead of everything since the validation phase. The argument is the live pass's: a row this
     * pass did not read was equal at the last mark and untouched since; a row it read agreed after the target caught
     * up with the source's read; whatever changed a row after that comes after this pass's start in the topic.
     */
    public static List<TableValidation> recheckLive(Endpoint source, Endpoint target, StreamSpec spec, List<TableRef> tables,
            int chunkRows, String bootstrap, ValidationEngine.CatchUp drain, Consumer<String> progress) throws SQLException {
        for (int pass = 1; ; pass++) {
            long t0 = System.nanoTime();
            Start start = position(spec, bootstrap); // before any row is read; the old mark stays until this pass passed
            Plan plan = plan(source, spec, tables, bootstrap, progress);
            List<TableValidation> out = new ArrayList<>();
            for (TableRef t : tables) {
                String why = plan.fullReasons().get(t);
                out.add(why == null ? Validator.liveKeys(source, target, t, plan.touched().keys(t), 5, drain, progress,
                        spec.redactsValues()) : MigrationValidation.whole(source, target, t, chunkRows, drain, spec.redactsValues(),
                        () -> progress.accept(t + ": re-checking whole")));
                progress.accept("pass " + pass + ": " + out.size() + "/" + tables.size() + " tables re-checked");
            }
            boolean passed = out.stream().allMatch(TableValidation::matches);
            if (start != null && passed) {
                livePassed(spec, start, tables);
            }
            log.info("{}: live re-check pass {} of {} topic records' keys in {} ms", spec.streamId(), pass, plan.records(),
                    (System.nanoTime() - t0) / 1_000_000);
            // each pass reads what changed during the one before, so they shorten; the last leaves the pause a little
            if (!passed || start == null || plan.records() <= SMALL_ENOUGH_RECORDS || pass == MAX_RECHECK_PASSES) {
                return out;
            }
        }
    }

    /** A re-check over this few changes is short, and so are the changes it leaves to the pause. */
    static final int SMALL_ENOUGH_RECORDS = 2_000;
    static final int MAX_RECHECK_PASSES = 3;

    /** By key; a key the target's type cannot read back (class 22) is left to the whole-table check. */
    private static TableValidation byKeys(Endpoint source, Endpoint target, StreamSpec spec, TableRef t, Set<List<String>> keys,
            int chunkRows) throws SQLException {
        try {
            return Validator.keys(source, target, t, keys, spec.redactsValues());
        } catch (SQLException e) {
            if (e.getSQLState() == null || !e.getSQLState().startsWith("22")) {
                throw e;
            }
            log.warn("{}: touched keys not readable ({}), checking the whole table", t, e.getMessage());
            return MigrationValidation.whole(source, target, t, chunkRows, null, spec.redactsValues());
        }
    }

    /** Decides, per table, between its touched keys and a full check; reads the topic from the mark to its end. */
    public static Plan plan(Endpoint source, StreamSpec spec, List<TableRef> tables, String bootstrap, Consumer<String> progress)
            throws SQLException {
        Map<TableRef, List<String>> keyColumns = new LinkedHashMap<>();
        Map<TableRef, String> fullReasons = new LinkedHashMap<>();
        Map<TableRef, Double> estimatedRows = new LinkedHashMap<>();
        try (Connection src = Pg.connect(source, "dbmigrate-validate")) {
            for (TableRef t : tables) {
                TableMeta meta = TableMeta.load(src, t);
                keyColumns.put(t, meta.primaryKey());
                String identity = oldKeyGap(src, t);
                if (identity != null) {
                    fullReasons.put(t, identity);
                }
                estimatedRows.put(t, estimatedRows(src, t));
            }
        }
        TouchedKeys touched = new TouchedKeys(keyColumns, new TableRef(spec.controlSchema(), CaptureSetup.HEARTBEAT_TABLE),
                MAX_KEYS_PER_TABLE);
        Optional<ValidationMark> mark;
        ApplyPosition applied;
        try (Connection to = Pg.connect(spec.to(), "dbmigrate-validate")) {
            mark = ValidationMark.read(to, ChangeApplier.applySchema(spec), spec.streamId());
            applied = ApplyPosition.read(to, ChangeApplier.applySchema(spec), spec.streamId()).orElse(ApplyPosition.initial());
        }
        long records = 0;
        if (mark.isEmpty()) {
            touched.allFull("no validation mark (no live pass passed on this stream, or one began after it and did not pass)");
        } else if (bootstrap == null) {
            touched.allFull("this worker does not know Kafka");
        } else if (applied.kafkaOffset() < mark.get().kafkaOffset()) {
            touched.allFull("the applied position (" + applied.kafkaOffset() + ") is behind the mark (" + mark.get().kafkaOffset()
                    + "): the stream was started anew");
        } else {
            records = readTopic(spec, bootstrap, mark.get(), touched, progress);
        }
        for (TableRef t : tables) {
            if (mark.isPresent() && !mark.get().tables().contains(t)) {
                fullReasons.putIfAbsent(t, "not part of the live pass that took the mark");
            }
            String why = touched.fullCheckReason(t);
            if (why != null) {
                fullReasons.putIfAbsent(t, why);
            } else if (touched.keys(t).size() > Math.max(KEYS_ALWAYS_BY_KEY, estimatedRows.get(t) / 10)) {
                fullReasons.putIfAbsent(t, touched.keys(t).size() + " keys touched: reading the table is cheaper");
            }
        }
        fullReasons.forEach((t, why) -> log.info("{}: frozen validation reads {} whole: {}", spec.streamId(), t, why));
        return new Plan(touched, fullReasons, records);
    }

    /**
     * Why the topic may not name a row's old primary key when an update changes it, or null. pgoutput sends the old
     * values of the replica identity: the primary key by default, every column with FULL; with an index other than
     * the key (or NOTHING) an update that moves the key would hide the old one. Partitions have their own setting.
     */
    private static String oldKeyGap(Connection src, TableRef t) throws SQLException {
        try (PreparedStatement ps = src.prepareStatement("""
                SELECT string_agg(DISTINCT p.relreplident::text, ',')
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                       LATERAL (SELECT c.oid AS relid UNION SELECT relid FROM pg_partition_tree(c.oid)) tree
                       JOIN pg_class p ON p.oid = tree.relid
                 WHERE n.nspname = ? AND c.relname = ? AND p.relreplident NOT IN ('d', 'f')""")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                String other = rs.next() ? rs.getString(1) : null;
                return other == null ? null : "replica identity '" + other + "' does not carry the old primary key";
            }
        }
    }

    /** The planner's row estimate (0 when never analyzed): only to choose the cheaper of two exact checks. */
    private static double estimatedRows(Connection src, TableRef t) throws SQLException {
        try (PreparedStatement ps = src.prepareStatement("""
                SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                       LATERAL (SELECT c.oid AS relid UNION SELECT relid FROM pg_partition_tree(c.oid)) tree
                       JOIN pg_class p ON p.oid = tree.relid
                 WHERE n.nspname = ? AND c.relname = ?""")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getDouble(1) : 0;
            }
        }
    }

    /**
     * Feeds every record after the mark, up to the topic's end as of now, into {@code touched}; anything that makes the
     * records after the mark uncertain (another topic, retention, an unreadable record, Kafka unreachable) turns
     * every table into a full check. Returns the records read.
     */
    static long readTopic(StreamSpec spec, String bootstrap, ValidationMark mark, TouchedKeys touched, Consumer<String> progress) {
        try {
            String id = topicId(bootstrap, spec.topic());
            if (!id.equals(mark.topicId())) {
                touched.allFull("the topic was created anew since the mark (id " + id + ", mark's " + mark.topicId() + ")");
                return 0;
            }
        } catch (RuntimeException e) {
            touched.allFull("Kafka not readable: " + e.getMessage());
            return 0;
        }
        TopicPartition tp = new TopicPartition(spec.topic(), 0);
        long from = mark.kafkaOffset() + 1;
        long read = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(spec, bootstrap))) {
            consumer.assign(List.of(tp));
            long begin = consumer.beginningOffsets(List.of(tp), KAFKA_TIMEOUT).get(tp);
            long end = consumer.endOffsets(List.of(tp), KAFKA_TIMEOUT).get(tp);
            if (begin > from) {
                touched.allFull("retention removed records after the mark (the topic begins at " + begin + ", the mark needs " + from + ")");
                return 0;
            }
            if (end < from) {
                touched.allFull("the topic ends (" + end + ") before the mark (" + from + ")");
                return 0;
            }
            consumer.seek(tp, from);
            long lastBeat = 0;
            long stalledSince = System.nanoTime();
            while (consumer.position(tp, KAFKA_TIMEOUT) < end) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    if (r.offset() >= end) {
                        break;
                    }
                    touched.accept(ChangeEvent.parse(r.offset(), r.value()));
                    read++;
                }
                if (!records.isEmpty()) {
                    stalledSince = System.nanoTime();
                } else if (System.nanoTime() - stalledSince > KAFKA_TIMEOUT.toNanos()) {
                    touched.allFull("the topic did not deliver offsets " + consumer.position(tp) + " to " + end + " within " + KAFKA_TIMEOUT);
                    return read;
                }
                if (System.nanoTime() - lastBeat > TimeUnit.SECONDS.toNanos(1)) {
                    progress.accept("reading the changes since the last live validation: " + read + " of " + (end - from) + " records");
                    lastBeat = System.nanoTime();
                }
            }
            return read;
        } catch (java.io.IOException | IllegalArgumentException e) {
            touched.allFull("a record after the mark could not be read: " + e.getMessage());
            return read;
        } catch (org.apache.kafka.common.KafkaException e) {
            touched.allFull("Kafka not readable: " + e.getMessage());
            return read;
        }
    }

    /** No group: like the applier, the partition is assigned by hand and nothing is committed. */
    private static Properties consumerProps(StreamSpec spec, String bootstrap) {
        Properties p = ChangeApplier.topicReader(bootstrap, spec.streamId() + "-validate");
        // the read ends at the topic's end as of its start: a fetch waiting for more (500 ms by default) only
        // delays the consumer's close, inside the write pause
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        return p;
    }
}
