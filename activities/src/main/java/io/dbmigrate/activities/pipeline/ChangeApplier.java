package io.dbmigrate.activities.pipeline;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.ApplierProgress;
import io.dbmigrate.workflows.model.MigrationId;
import io.dbmigrate.workflows.model.StreamSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.dbmigrate.activities.pipeline.TransactionAssembler.Unit;

/**
 * dbmigrate's transactional applier. Reads one stream's single-partition topic (which holds the source's
 * transactions in commit order, delimited by Debezium's BEGIN/END records) and applies each source transaction as
 * one target transaction, in order; consecutive transactions that are already available share one target
 * transaction (group commit), a transaction is never split. The position (topic offset, LSNs, marker) is written in
 * that same target transaction, so after any restart the applier resumes exactly after the last applied
 * transaction. A transaction Debezium emits twice (after a Connect restart) is recognised by its commit LSN (no
 * later than the last applied one) and skipped.
 */
public final class ChangeApplier {
    private static final Logger log = LoggerFactory.getLogger(ChangeApplier.class);
    private static final int MAX_GROUP_CHANGES = 20_000;
    /** Most changes of one open source transaction held in memory (and bytes: TransactionAssembler.MAX_HELD_BYTES). */
    public static final int MAX_HELD_CHANGES = TransactionAssembler.MAX_HELD_CHANGES;
    /** How long a reconnect waits for this applier's own abandoned session to let go of the stream's lock. */
    private static final Duration OWN_SESSION_WAIT = Duration.ofSeconds(10);
    /** Bound of one applier statement: far above any healthy one (docs/pipeline.md, "Timeouts"). */
    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(100);
    /** Longer than the statement bound, so the server cancels a slow statement before the client drops the socket. */
    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(120);

    private final StreamSpec spec;
    private final String bootstrap;
    private final String applySchema;
    private final Timer lagTimer;
    private final LagTimers hops;
    private final Counter changesCounter;
    private final Counter txCounter;
    private final Counter duplicateCounter;
    private final Counter refusedBatches;

    private Connection conn;
    /** The backend of the current (or, between a lost connection and the next one, the last) connection. */
    private StreamLock.Session session;
    private TargetWriter writer;
    private boolean replicaRole;
    private ApplyPosition position;
    /** Highest commit LSN accepted so far, applied or still pending in the current group. */
    private long acceptedCommitLsn;
    private long changes;
    private long duplicates;
    private long snapshotRows;
    private double lastLagMs;
    private String retrying;
    private Consumer<ApplierProgress> heartbeat = p -> {};
    private long lastBeat;
    /**
     * A target transaction holds changes written ahead of their source transaction's END (a large transaction, see
     * TransactionAssembler.takeApplicable): the first {@code writtenUnits} pending units and part of the open one.
     */
    private boolean openTarget;
    private int writtenUnits;
    private long writtenRows;
    private long writtenLsn;
    private long writtenMarker;
    /** Set after a refused batch inside an open target transaction: its changes are read again one by one. */
    private boolean oneByOneUntilCommit;
    /** Most changes of one open source transaction held in memory at once (it is bounded; see TransactionAssembler). */
    private volatile int heldHighWater;

    public ChangeApplier(StreamSpec spec, String bootstrap, MeterRegistry registry) {
        this.spec = spec;
        this.bootstrap = bootstrap;
        this.applySchema = applySchema(spec);
        String stream = spec.streamId();
        this.lagTimer = Timer.builder("dbmigrate.apply.lag")
                .description("source commit to target commit, per applied source transaction")
                .tag("stream", stream).publishPercentiles(0.5, 0.99).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry);
        this.hops = new LagTimers(hop("capture", "source commit to the change record's creation in Kafka (Debezium, Connect)", registry),
                hop("delivery", "record creation in Kafka to its receipt by the applier", registry),
                hop("apply", "receipt by the applier to target commit", registry));
        this.changesCounter = Counter.builder("dbmigrate.apply.changes").tag("stream", stream).register(registry);
        this.txCounter = Counter.builder("dbmigrate.apply.transactions").tag("stream", stream).register(registry);
        this.duplicateCounter = Counter.builder("dbmigrate.apply.duplicates.skipped").tag("stream", stream).register(registry);
        this.refusedBatches = Counter.builder("dbmigrate.apply.batches.refused")
                .description("groups the target refused as a batch and that were applied again one change at a time")
                .tag("stream", stream).register(registry);
    }

    /** Groups applied again one change at a time after the target refused their batch (see TargetWriter.BatchRefused). */
    public long refusedBatches() {
        return (long) refusedBatches.count();
    }

    /** The schema on the applying side that holds the position table. */
    /** A custom setting (no privilege needed) that marks dbmigrate's applier sessions; the write fence reads it. */
    public static final String APPLIER_SETTING = "dbmigrate.applier";

    public static String applySchema(StreamSpec spec) {
        return MigrationId.objectName(spec.migrationId());
    }

    public Timer lagTimer() {
        return lagTimer;
    }

    /** Where the lag goes, per applied source transaction: the three hops add up to {@link #lagTimer()}. */
    public record LagTimers(Timer capture, Timer delivery, Timer apply) {}

    public LagTimers lagHops() {
        return hops;
    }

    private Timer hop(String name, String description, MeterRegistry registry) {
        return Timer.builder("dbmigrate.apply.lag." + name).description(description).tag("stream", spec.streamId())
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    /** A transaction waiting for its group commit, with when its END record was created in Kafka and received. */
    private record Pending(Unit unit, long producedMillis, long receivedMillis) {}

    /**
     * Applies until {@code keepGoing} turns false. {@code progress} is called about once a second, in waits and retries
     * too (and may throw to stop, as a cancelled activity's heartbeat does). Data errors end the run with
     * {@link ApplyDataException}; another applier on the same stream with {@link ApplierConflictException}.
     */
    public void run(BooleanSupplier keepGoing, Consumer<ApplierProgress> progress) throws SQLException {
        heartbeat = progress;
        position = connect();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps())) {
            TopicPartition tp = new TopicPartition(spec.topic(), 0);
            consumer.assign(List.of(tp));
            consumer.seek(tp, position.kafkaOffset() + 1);
            log.info("{}: applying from topic offset {} (applied LSN {})", spec.streamId(), position.kafkaOffset() + 1,
                    Lsn.format(position.lsn()));
            TransactionAssembler assembler = new TransactionAssembler(position.kafkaOffset());
            List<Pending> pending = new ArrayList<>();
            int pendingChanges = 0;
            long lastPositionWrite = System.nanoTime();
            while (keepGoing.getAsBoolean()) {
                try {
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(50));
                    long received = System.currentTimeMillis();
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        ChangeEvent e = ChangeEvent.parse(r.offset(), r.value());
                        Unit u = assembler.accept(e);
                        heldHighWater = Math.max(heldHighWater, assembler.held());
                        if (u != null) {
                            if (isDuplicate(u)) {
                                if (u.continued()) {
                                    // part of it is written in the open target transaction: undo, and read again without it
                                    throw new ReadAgain("transaction " + e.txId() + " ending at topic offset " + u.endOffset()
                                            + " was applied before", -1, e.txId(), u.endOffset());
                                }
                                duplicates++;
                                duplicateCounter.increment();
                            } else {
                                pending.add(new Pending(u, r.timestamp(), received));
                                pendingChanges += u.events().size();
                            }
                        } else {
                            List<ChangeEvent> ahead = assembler.takeApplicable();
                            if (!ahead.isEmpty()) {
                                writeAhead(pending, ahead);
                            }
                        }
                        if (pendingChanges >= MAX_GROUP_CHANGES && !assembler.inTransaction()) {
                            flushWithRetry(pending, assembler.completeOffset(), keepGoing);
                            pending.clear();
                            pendingChanges = 0;
                            lastPositionWrite = System.nanoTime();
                        }
                    }
                    boolean idleProgress = assembler.completeOffset() > position.kafkaOffset()
                            && System.nanoTime() - lastPositionWrite > TimeUnit.SECONDS.toNanos(5);
                    // an open target transaction commits only with the END of the source transaction it holds part of
                    if ((!pending.isEmpty() || idleProgress) && !(openTarget && assembler.inTransaction())) {
                        flushWithRetry(pending, assembler.completeOffset(), keepGoing);
                        pending.clear();
                        pendingChanges = 0;
                        lastPositionWrite = System.nanoTime();
                    }
                    beat();
                } catch (ReadAgain again) {
                    log.info("{}: {}; the target transaction is rolled back and the topic read again from offset {}",
                            spec.streamId(), again.getMessage(), position.kafkaOffset() + 1);
                    resume(again.groupEnd(), keepGoing);
                    consumer.seek(tp, position.kafkaOffset() + 1);
                    assembler = new TransactionAssembler(position.kafkaOffset());
                    if (again.skipTxId() != null) {
                        assembler.skip(again.skipTxId(), again.skipThrough());
                    }
                    pending.clear();
                    pendingChanges = 0;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("undecodable record in " + spec.topic() + ": " + e.getMessage(), e);
        } finally {
            closeQuietly();
        }
    }

    public ApplierProgress progress() {
        if (position == null) {
            return new ApplierProgress(-1, "0/0", 0, changes, duplicates, snapshotRows, lastLagMs, replicaRole, retrying);
        }
        return new ApplierProgress(position.kafkaOffset(), Lsn.format(position.lsn()), position.transactions(), changes,
                duplicates, snapshotRows, lastLagMs, replicaRole, retrying);
    }

    /** Most changes of one open source transaction the applier held in memory at once since it started. */
    public int heldHighWater() {
        return heldHighWater;
    }

    /**
     * The open target transaction, holding changes written ahead of their source transaction's END, cannot be
     * completed (a transient error, a refused batch, a transaction found to be a duplicate): it is rolled back and the
     * topic read again from the stored position. {@code groupEnd} is the offset the lost commit would have stored, or
     * -1; {@code skipTxId} a transaction to drop up to its END at {@code skipThrough}.
     */
    private static final class ReadAgain extends RuntimeException {
        private final long groupEnd;
        private final String skipTxId;
        private final long skipThrough;

        ReadAgain(String why, long groupEnd, String skipTxId, long skipThrough) {
            super(why, null, false, false);
            this.groupEnd = groupEnd;
            this.skipTxId = skipTxId;
            this.skipThrough = skipThrough;
        }

        long groupEnd() {
            return groupEnd;
        }

        String skipTxId() {
            return skipTxId;
        }

        long skipThrough() {
            return skipThrough;
        }
    }

    /**
     * Writes changes of a large source transaction ahead of its END into the open target transaction (opened here,
     * with the complete transactions pending before it), so that memory holds a bounded part of it. Nothing is
     * committed: the END commits it with the position, as for any group; a failure rolls all of it back.
     */
    private void writeAhead(List<Pending> pending, List<ChangeEvent> ahead) throws SQLException {
        try {
            if (conn == null) {
                throw new ReadAgain("the target connection was lost", -1, null, -1);
            }
            openTarget = true;
            for (; writtenUnits < pending.size(); writtenUnits++) {
                writer.apply(data(pending.get(writtenUnits).unit().events()), oneByOneUntilCommit);
            }
            writer.apply(data(ahead), oneByOneUntilCommit);
        } catch (TargetWriter.BatchRefused e) {
            refusedBatches.increment();
            oneByOneUntilCommit = true;
            closeQuietly();
            throw new ReadAgain("the target refused a batch (" + e.getMessage() + "); reading it again one change at a time",
                    -1, null, -1);
        } catch (SQLException e) {
            if (!ApplyErrors.isTransient(e)) {
                rollbackQuietly();
                throw e;
            }
            retrying = "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
            closeQuietly();
            throw new ReadAgain("transient error " + retrying, -1, null, -1);
        } catch (ReadAgain e) {
            throw e;
        } catch (RuntimeException e) {
            rollbackQuietly();
            throw e;
        }
    }

    /** The data changes of {@code events}, with the heartbeat table's rows taken out into the marker and LSN. */
    private List<ChangeEvent> data(List<ChangeEvent> events) {
        List<ChangeEvent> data = new ArrayList<>(events.size());
        for (ChangeEvent e : events) {
            writtenLsn = Math.max(writtenLsn, e.lsn());
            if (isControl(e)) {
                if (e.after() != null && e.after().get("marker") != null) {
                    writtenMarker = Math.max(writtenMarker, Long.parseLong(e.after().get("marker")));
                }
            } else {
                data.add(e);
            }
        }
        writtenRows += data.size();
        return data;
    }

    /**
     * After the open target transaction was lost: a new connection (retried while the error is transient), and the
     * position as stored, which says whether the lost commit landed ({@link #settle(long, long, long)}).
     */
    private void resume(long groupEnd, BooleanSupplier keepGoing) throws SQLException {
        closeQuietly();
        resetWritten();
        acceptedCommitLsn = 0; // what was accepted since the stored position is read again
        long backoff = 200;
        while (true) {
            try {
                ApplyPosition stored = connect();
                if (!settle(stored, groupEnd)) {
                    position = stored;
                }
                retrying = null;
                return;
            } catch (SQLException e) {
                if (!ApplyErrors.isTransient(e) || !keepGoing.getAsBoolean()) {
                    throw e;
                }
                retrying = "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
                pause(backoff);
                backoff = Math.min(backoff * 2, 10_000);
            }
        }
    }

    /**
     * A transaction applied before (Debezium sends whole transactions again after a restart): its commit LSN is not
     * after the last one accepted. Compared with what is accepted, not only committed: after a stall one poll can
     * hold a transaction and its replay.
     */
    private boolean isDuplicate(Unit u) {
        if (u.snapshot() || u.commitLsn() == 0) {
            return false;
        }
        if (u.commitLsn() <= Math.max(acceptedCommitLsn, position.commitLsn())) {
            return true;
        }
        acceptedCommitLsn = u.commitLsn();
        return false;
    }

    /**
     * Applies one group, retrying transient errors. A transient error drops the connection, and with it the stream's
     * lock: whether the group's commit landed (a COMMIT whose reply was lost did) is then unknown, and is decided only
     * from the position as stored, read after the lock is taken again ({@link #settle}). Retries heartbeat, show in
     * {@code retrying}, and stop when the heartbeat throws.
     */
    private void flushWithRetry(List<Pending> units, long offset, BooleanSupplier keepGoing) throws SQLException {
        long backoff = 200;
        boolean oneByOne = false;
        while (true) {
            try {
                if (conn == null && settle(connect(), offset)) {
                    retrying = null;
                    return;
                }
                flush(units, offset, oneByOne);
                retrying = null;
                return;
            } catch (TargetWriter.BatchRefused e) {
                if (openTarget) {
                    // part of the group was written ahead and is not held any more: read it again, one by one
                    refusedBatches.increment();
                    oneByOneUntilCommit = true;
                    closeQuietly();
                    throw new ReadAgain("the target refused a batch (" + e.getMessage() + "); reading it again one "
                            + "change at a time", -1, null, -1);
                }
                // a batch does not say which change the target refused: apply the same group again, one statement
                // per change, so that the error names it (or, if it was a batching artefact, the group just lands)
                rollbackQuietly();
                refusedBatches.increment();
                oneByOne = true;
                log.info("{}: the target refused a batch ({}); applying the group again one change at a time",
                        spec.streamId(), e.getMessage());
            } catch (SQLException e) {
                if (!ApplyErrors.isTransient(e)) {
                    rollbackQuietly();
                    throw e;
                }
                // the connection is replaced below (or by run()'s finally): closeQuietly rolls back
                retrying = "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
                if (openTarget) {
                    // part of the group was written ahead and is not held any more: the stored position decides
                    closeQuietly();
                    throw new ReadAgain("transient error " + retrying, offset, null, -1);
                }
                log.warn("{}: transient error, retrying in {} ms: {}", spec.streamId(), backoff, retrying);
                if (!keepGoing.getAsBoolean()) {
                    throw e;
                }
                closeQuietly();
                pause(backoff);
                backoff = Math.min(backoff * 2, 10_000);
            } catch (RuntimeException e) {
                // a data error, a conflict over the stream, or a stop from the heartbeat: nothing of the group stays
                rollbackQuietly();
                throw e;
            }
        }
    }

    /** What the position as stored says about a group after a doubt over its commit. */
    enum Settled {
        /** The stored position is the one before the group: its commit did not land, the group is applied now. */
        NOT_APPLIED,
        /** The stored position is the group's end: its commit landed although its reply was lost. */
        APPLIED,
        /** Anything else: another writer moved the position meanwhile. */
        MOVED
    }

    static Settled settle(long before, long groupEnd, long stored) {
        if (stored == before) {
            return Settled.NOT_APPLIED;
        }
        return stored == groupEnd ? Settled.APPLIED : Settled.MOVED;
    }

    /** True when the group ending at {@code offset} is applied already, according to {@code stored}. */
    private boolean settle(ApplyPosition stored, long offset) {
        switch (settle(position.kafkaOffset(), offset, stored.kafkaOffset())) {
            case NOT_APPLIED:
                return false;
            case APPLIED:
                log.info("{}: the commit up to topic offset {} landed although its reply was lost; not applying it again",
                        spec.streamId(), offset);
                position = stored;
                return true;
            default:
                throw positionMoved(Optional.of(stored), offset);
        }
    }

    private void flush(List<Pending> pending, long offset, boolean oneByOne) throws SQLException {
        if (!openTarget) {
            resetWritten(); // a group applied again after a refused batch or a new connection starts from nothing
        }
        List<Unit> units = pending.stream().map(Pending::unit).toList();
        List<ChangeEvent> data = new ArrayList<>();
        for (int i = writtenUnits; i < units.size(); i++) {
            data.addAll(data(units.get(i).events()));
        }
        long commitLsn = position.commitLsn();
        long commitMicros = 0;
        long reads = 0;
        int txs = 0;
        for (Unit u : units) {
            reads += u.events().stream().filter(e -> e.kind() == ChangeEvent.Kind.READ && !isControl(e)).count();
            if (!u.snapshot()) {
                txs++;
                commitLsn = Math.max(commitLsn, u.commitLsn());
                commitMicros = Math.max(commitMicros, u.commitMicros());
            }
        }
        long rows = writtenRows;
        long marker = Math.max(position.marker(), writtenMarker);
        long lsn = Math.max(Math.max(position.lsn(), writtenLsn), commitLsn);
        writer.apply(data, oneByOne || oneByOneUntilCommit);
        ApplyPosition next = new ApplyPosition(offset, commitLsn, lsn,
                commitMicros == 0 ? position.commitTime() : Instant.ofEpochSecond(0, commitMicros * 1000),
                marker, position.transactions() + txs);
        if (!next.writeIfUnchanged(conn, applySchema, spec.streamId(), position)) {
            Optional<ApplyPosition> stored = ApplyPosition.read(conn, applySchema, spec.streamId());
            throw positionMoved(stored, offset);
        }
        conn.commit();
        position = next;
        resetWritten();
        oneByOneUntilCommit = false;
        changes += rows;
        snapshotRows += reads;
        changesCounter.increment(rows);
        txCounter.increment(txs);
        long nowMicros = ChronoMicros.now();
        for (Pending p : pending) {
            Unit u = p.unit();
            if (!u.snapshot() && u.commitMicros() > 0) {
                long lagMicros = Math.max(0, nowMicros - u.commitMicros());
                lagTimer.record(lagMicros, TimeUnit.MICROSECONDS);
                lastLagMs = lagMicros / 1000.0;
                long produced = Math.max(p.producedMillis() * 1000, u.commitMicros());
                long received = Math.max(p.receivedMillis() * 1000, produced);
                hops.capture().record(produced - u.commitMicros(), TimeUnit.MICROSECONDS);
                hops.delivery().record(received - produced, TimeUnit.MICROSECONDS);
                hops.apply().record(Math.max(0, nowMicros - received), TimeUnit.MICROSECONDS);
            }
        }
    }

    private void resetWritten() {
        openTarget = false;
        writtenUnits = 0;
        writtenRows = 0;
        writtenLsn = 0;
        writtenMarker = 0;
    }

    private boolean isControl(ChangeEvent e) {
        return e.table() != null && e.table().schema().equals(spec.controlSchema())
                && e.table().name().equals(CaptureSetup.HEARTBEAT_TABLE);
    }

    /**
     * Opens the applier's session, takes the stream's lock, and returns the position as stored (read under the lock,
     * so it is final: no other applier can move it while this connection lives).
     */
    private ApplyPosition connect() throws SQLException {
        conn = Pg.connect(spec.to(), "dbmigrate-applier-" + spec.streamId(), connectionOptions());
        try {
            return prepareSession();
        } catch (SQLException | RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    /**
     * The applier's driver options. Beside multi-row inserts and its timeouts: an abandoned session, one whose client
     * is gone, ends on its own and lets go of the stream's lock: within a minute if it was inside a transaction (the
     * applier never idles in one: a group's statements go back to back), and when the server's keepalive probes go
     * unanswered (30 s idle, 3 probes 10 s apart) otherwise.
     */
    public static Map<String, String> connectionOptions() {
        Map<String, String> server = new LinkedHashMap<>();
        server.put("idle_in_transaction_session_timeout", "60000ms");
        server.put("tcp_keepalives_idle", "30");
        server.put("tcp_keepalives_interval", "10");
        server.put("tcp_keepalives_count", "3");
        Map<String, String> options = new LinkedHashMap<>(Pg.timeouts(STATEMENT_TIMEOUT, SOCKET_TIMEOUT, server));
        // a batch of inserts (or upserts) of one shape goes out as multi-row INSERTs of up to 128 rows (pgjdbc)
        options.put("reWriteBatchedInserts", "true");
        return options;
    }

    private ApplyPosition prepareSession() throws SQLException {
        conn.setAutoCommit(true);
        // before the position is read: only the lock holder's reading is final
        lockStream();
        session = StreamLock.self(conn);
        try (Statement st = conn.createStatement()) {
            // applied commits may be lost in a target crash only together with their position row: replayed from Kafka
            st.execute("SET synchronous_commit = off");
            // the write fence on an old source lets this session through (the reverse stream, without replica role)
            st.execute("SET " + APPLIER_SETTING + " = on");
            try {
                st.execute("SET session_replication_role = replica");
                replicaRole = true;
            } catch (SQLException e) {
                replicaRole = false;
                log.warn("{}: cannot SET session_replication_role = replica as {} ({}); target triggers will fire "
                        + "and foreign keys are checked. Fix: GRANT SET ON PARAMETER session_replication_role TO {}",
                        spec.streamId(), spec.to().user(), e.getMessage(), spec.to().user());
            }
        }
        ApplyPosition.createTable(conn, applySchema);
        conn.setAutoCommit(false);
        writer = new TargetWriter(conn);
        ApplyPosition stored = ApplyPosition.read(conn, applySchema, spec.streamId()).orElse(ApplyPosition.initial());
        conn.commit();
        return stored;
    }

    /**
     * Takes the stream's lock for the life of this connection. Held by another session: that is another applier, and
     * this one stops naming it; or it is this applier's own previous session, which the target has not seen end (its
     * client is gone, as after a lost reply): abandoned, so it is ended, and its transaction commits or rolls back
     * before the lock comes free.
     */
    private void lockStream() throws SQLException {
        long deadline = System.nanoTime() + OWN_SESSION_WAIT.toNanos();
        boolean ended = false;
        while (!StreamLock.tryLock(conn, spec.streamId())) {
            Optional<StreamLock.Holder> holder = StreamLock.holder(conn, spec.streamId());
            boolean own = holder.isPresent() && holder.get().session().equals(session);
            if (holder.isPresent() && (!own || System.nanoTime() > deadline)) {
                throw alreadyRunning(holder.get(), own);
            }
            if (own && !ended) {
                log.warn("{}: the stream's lock is still held by this applier's previous session {}; ending it",
                        spec.streamId(), holder.get().describe());
                ended = StreamLock.terminate(conn, holder.get().session().pid());
            }
            if (System.nanoTime() > deadline) {
                throw new ApplierConflictException(ApplierConflictException.Kind.ALREADY_RUNNING, "stream "
                        + spec.streamId() + ": the lock " + StreamLock.keySql(spec.streamId()) + " on " + spec.to().describe()
                        + " stayed taken for " + OWN_SESSION_WAIT.toSeconds() + " s by sessions that ended as they were looked up");
            }
            pause(100); // the holder is going (it just ended, or was told to): a moment, then try again
        }
    }

    private ApplierConflictException alreadyRunning(StreamLock.Holder holder, boolean own) {
        return new ApplierConflictException(ApplierConflictException.Kind.ALREADY_RUNNING, "another applier is running "
                + "for stream " + spec.streamId() + ": the stream's lock on " + spec.to().describe() + " is held by "
                + holder.describe() + (own ? ", this applier's previous session, which did not end when told to" : "")
                + ". Only one applier may write a stream; this one stops (and is retried). A session that is gone "
                + "but still listed can be ended with SELECT pg_terminate_backend(" + holder.session().pid()
                + "); the lock key is " + StreamLock.keySql(spec.streamId()));
    }

    private ApplierConflictException positionMoved(Optional<ApplyPosition> stored, long groupEnd) {
        return new ApplierConflictException(ApplierConflictException.Kind.POSITION_MOVED, "stream " + spec.streamId()
                + ": the applied position on " + spec.to().describe() + " is no longer topic offset " + position.kafkaOffset()
                + ", which this applier read or wrote last, but " + stored.map(p -> "offset " + p.kafkaOffset() + " (LSN "
                + Lsn.format(p.lsn()) + ")").orElse("gone") + ": another writer changed " + ApplyPosition.table(applySchema)
                + " (an applier not holding the stream's lock, a manual change, or a new capture that reset it). This applier's "
                + "group up to offset " + groupEnd + " is not applied (rolled back), so nothing lands twice; it stops (and is retried)");
    }

    /** Reports progress (the activity's heartbeat) at most once a second; it may throw to stop the applier. */
    private void beat() {
        if (System.nanoTime() - lastBeat >= TimeUnit.SECONDS.toNanos(1)) {
            lastBeat = System.nanoTime();
            heartbeat.accept(progress());
        }
    }

    /** Waits, heartbeating meanwhile, so a long wait neither times out the activity nor hides its cancellation. */
    private void pause(long ms) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        for (long left = ms; left > 0; left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())) {
            beat();
            try {
                Thread.sleep(Math.min(left, 250));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(spec.streamId() + ": applier interrupted", e);
            }
        }
        beat();
    }

    /**
     * A consumer of a change topic's single partition, assigned by hand, with no group and nothing committed; records
     * as bytes (values carry everything; keys are not read), in large fetches.
     */
    public static Properties topicReader(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 * 1024 * 1024));
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 * 1024 * 1024));
        return p;
    }

    /**
     * No consumer group: the applied position lives in the target, committed with the changes, and the topic has one
     * partition assigned by hand. A group id made every poll go through the group coordinator (15% of the applier
     * thread at 2,500 commits/s) for offsets nothing reads.
     */
    Properties consumerProps() {
        Properties p = topicReader(bootstrap, spec.streamId() + "-applier");
        // a fetch waits up to 2 ms for 32 KB: under load one fetch per 2 ms instead of one per record batch,
        // which was most of Kafka's network thread at 2,500 commits/s
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "2");
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, Integer.toString(32 * 1024));
        return p;
    }

    private void rollbackQuietly() {
        try {
            if (conn != null) {
                conn.rollback();
            }
        } catch (SQLException ignored) {
            // the connection is replaced on the next attempt
        }
    }

    private void closeQuietly() {
        if (writer != null) {
            writer.forget();
        }
        if (conn != null) {
            rollbackQuietly();
            try {
                // closed even when the rollback failed (autocommit on, connection broken): an open one keeps its lock
                conn.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        conn = null;
    }

    /** Wall clock in microseconds (commit timestamps from the source are microseconds). */
    static final class ChronoMicros {
        private ChronoMicros() {}

        static long now() {
            Instant i = Instant.now();
            return i.getEpochSecond() * 1_000_000 + i.getNano() / 1000;
        }
    }
}
