package io.dbmigrate.activities.pipeline;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Rebuilds source transactions from the topic's records, including what Debezium sends after a restart of Connect,
 * Kafka or its task. Debezium resumes from its last committed offset, which can lie inside a transaction: it then
 * sends the same transaction again (a new BEGIN, dropped in Connect since BEGIN records carry nothing else, and
 * counters starting again at 1) with the changes after its last committed one, or with changes we already hold. Changes are kept by their LSN; a later copy of a transaction
 * replaces what an earlier copy held at the same LSN and adds what follows, so nothing is lost and nothing counted
 * twice. A transaction whose last copy has fewer changes than its END announces is refused, never applied with a hole.
 *
 * <p>A large transaction is not held whole: {@link #takeApplicable} hands out what it holds, but for the changes at
 * its last LSN (Debezium sends a key update as two changes at one LSN), once that passes a bound, and the caller
 * writes them into the transaction it keeps open on the target. A later copy's changes at an LSN handed out
 * already are counted but not kept: they are the same changes. The END then closes a unit marked {@code continued}.
 */
final class TransactionAssembler {
    /** A complete source transaction (or one standalone snapshot row), in source order. */
    record Unit(List<ChangeEvent> events, long endOffset, long commitLsn, long commitMicros, boolean snapshot,
            boolean continued) {}

    /** Changes held for the open transaction before some are handed out (about 10 MB of small rows). */
    static final int MAX_HELD_CHANGES = 10_000;
    /** Bytes (of value text, approximately) held for the open transaction before some are handed out. */
    static final long MAX_HELD_BYTES = 64L * 1024 * 1024;

    private TreeMap<Long, List<ChangeEvent>> open;
    private String openId;
    private Set<Long> copyLsns = new HashSet<>();
    private int copyCount;
    private long copyLastLsn = -1;
    private long completeOffset;
    private int held;
    private long heldBytes;
    /** Highest LSN of the open transaction's changes handed out already, and how many were. */
    private long handedOutLsn = -1;
    private long handedOut;
    private long firstCommitMicros;
    private String skipTxId;
    private long skipThrough = -1;

    TransactionAssembler(long startOffset) {
        this.completeOffset = startOffset;
    }

    /** Offset of the last record after which no transaction is half read: where a restart may resume. */
    long completeOffset() {
        return completeOffset;
    }

    boolean inTransaction() {
        return open != null;
    }

    /** Changes of the open transaction held here now (the bound this class keeps). */
    int held() {
        return held;
    }

    /**
     * A transaction to drop whole, up to its END at {@code endOffset}: one found to be applied already after part of it
     * was written, which the caller rolled back and reads again.
     */
    void skip(String txId, long endOffset) {
        skipTxId = txId;
        skipThrough = endOffset;
    }

    /**
     * When the open transaction holds more than the bounds, its changes in order but for those at its last LSN (which
     * a later change or the END completes), handed out for the caller to write now; otherwise an empty list.
     */
    List<ChangeEvent> takeApplicable() {
        if (open == null || (held < MAX_HELD_CHANGES && heldBytes < MAX_HELD_BYTES) || open.size() < 2) {
            return List.of();
        }
        List<ChangeEvent> out = new ArrayList<>();
        long last = open.lastKey();
        while (open.firstKey() != last) {
            var first = open.pollFirstEntry();
            out.addAll(first.getValue());
            handedOutLsn = first.getKey();
        }
        if (firstCommitMicros == 0) {
            firstCommitMicros = out.get(0).commitMicros();
        }
        handedOut += out.size();
        held -= out.size();
        heldBytes = open.values().stream().flatMap(List::stream).mapToLong(TransactionAssembler::bytes).sum();
        return out;
    }

    /** About what a change takes in memory: its values' text. */
    static long bytes(ChangeEvent e) {
        return 64 + textBytes(e.before()) + textBytes(e.after());
    }

    private static long textBytes(java.util.Map<String, String> row) {
        long n = 0;
        if (row != null) {
            for (var c : row.entrySet()) {
                n += 48 + 2L * c.getKey().length() + (c.getValue() == null ? 0 : 2L * c.getValue().length());
            }
        }
        return n;
    }

    /** Feeds one record; returns a unit when one is complete (a duplicate check is the caller's). */
    Unit accept(ChangeEvent e) {
        switch (e.kind()) {
            case BEGIN -> {
                if (skipping(e)) {
                    return null;
                }
                if (open == null || !e.txId().equals(openId)) {
                    openTransaction(e.txId());
                }
                newCopy();
                return null;
            }
            case END -> {
                Unit u = null;
                if (skipping(e)) {
                    skipTxId = null;
                } else if (open != null && e.txId().equals(openId)) {
                    List<ChangeEvent> events = new ArrayList<>();
                    open.values().forEach(events::addAll);
                    long all = handedOut + events.size();
                    if (e.order() > 0 && e.order() != copyCount && e.order() != all) {
                        throw new ApplyDataException(e, "?", "transaction " + e.txId() + " (commit LSN " + Lsn.format(e.lsn())
                                + ") announced " + e.order() + " changes but the topic holds " + copyCount + " in its last copy ("
                                + all + " in all)", null);
                    }
                    if (handedOut > 0 || !events.isEmpty()) {
                        long micros = handedOut > 0 ? firstCommitMicros : events.get(0).commitMicros();
                        u = new Unit(List.copyOf(events), e.offset(), e.lsn(), micros, false, handedOut > 0);
                    }
                }
                open = null;
                openId = null;
                held = 0;
                heldBytes = 0;
                completeOffset = e.offset();
                return u;
            }
            case HEARTBEAT -> {
                if (open == null) {
                    completeOffset = e.offset();
                }
                return null;
            }
            default -> {
                if (e.txId() == null) {
                    // snapshot rows (and anything without transaction metadata) stand alone
                    completeOffset = e.offset();
                    return new Unit(List.of(e), e.offset(), 0, e.commitMicros(), e.kind() == ChangeEvent.Kind.READ, false);
                }
                if (skipping(e)) {
                    return null;
                }
                if (open == null || !e.txId().equals(openId)) {
                    openTransaction(e.txId());
                    newCopy();
                } else if (copyCount > 0 && (e.order() == 1 || e.lsn() < copyLastLsn)) {
                    // sent again: a copy's changes count from 1 (the BEGIN that would say so is dropped in Connect)
                    newCopy();
                }
                copyCount++;
                copyLastLsn = e.lsn();
                if (e.lsn() <= handedOutLsn) {
                    return null; // a later copy of a change handed out already
                }
                if (copyLsns.add(e.lsn())) {
                    // this copy's changes at this LSN replace an earlier copy's
                    List<ChangeEvent> replaced = open.put(e.lsn(), new ArrayList<>());
                    if (replaced != null) {
                        held -= replaced.size();
                        heldBytes -= replaced.stream().mapToLong(TransactionAssembler::bytes).sum();
                    }
                }
                open.get(e.lsn()).add(e);
                held++;
                heldBytes += bytes(e);
                return null;
            }
        }
    }

    private boolean skipping(ChangeEvent e) {
        return skipTxId != null && skipTxId.equals(e.txId()) && e.offset() <= skipThrough;
    }

    private void openTransaction(String txId) {
        open = new TreeMap<>();
        openId = txId;
        held = 0;
        heldBytes = 0;
        handedOutLsn = -1;
        handedOut = 0;
        firstCommitMicros = 0;
    }

    private void newCopy() {
        copyLsns = new HashSet<>();
        copyCount = 0;
        copyLastLsn = -1;
    }
}
