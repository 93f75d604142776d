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
 */
final class TransactionAssembler {
    /** A complete source transaction (or one standalone snapshot row), in source order. */
    record Unit(List<ChangeEvent> events, long endOffset, long commitLsn, long commitMicros, boolean snapshot) {}

    private TreeMap<Long, List<ChangeEvent>> open;
    private String openId;
    private Set<Long> copyLsns = new HashSet<>();
    private int copyCount;
    private long copyLastLsn = -1;
    private long completeOffset;

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

    /** Feeds one record; returns a unit when one is complete (a duplicate check is the caller's). */
    Unit accept(ChangeEvent e) {
        switch (e.kind()) {
            case BEGIN -> {
                if (open == null || !e.txId().equals(openId)) {
                    open = new TreeMap<>();
                    openId = e.txId();
                }
                newCopy();
                return null;
            }
            case END -> {
                Unit u = null;
                if (open != null && e.txId().equals(openId)) {
                    List<ChangeEvent> events = new ArrayList<>();
                    open.values().forEach(events::addAll);
                    if (e.order() > 0 && e.order() != copyCount && e.order() != events.size()) {
                        throw new ApplyDataException(e, "?", "transaction " + e.txId() + " (commit LSN " + Lsn.format(e.lsn())
                                + ") announced " + e.order() + " changes but the topic holds " + copyCount + " in its last copy ("
                                + events.size() + " in all)", null);
                    }
                    if (!events.isEmpty()) {
                        u = new Unit(List.copyOf(events), e.offset(), e.lsn(), events.get(0).commitMicros(), false);
                    }
                }
                open = null;
                openId = null;
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
                    return new Unit(List.of(e), e.offset(), 0, e.commitMicros(), e.kind() == ChangeEvent.Kind.READ);
                }
                if (open == null || !e.txId().equals(openId)) {
                    open = new TreeMap<>();
                    openId = e.txId();
                    newCopy();
                } else if (copyCount > 0 && (e.order() == 1 || e.lsn() < copyLastLsn)) {
                    // sent again: a copy's changes count from 1 (the BEGIN that would say so is dropped in Connect)
                    newCopy();
                }
                if (copyLsns.add(e.lsn())) {
                    open.put(e.lsn(), new ArrayList<>()); // this copy's changes at this LSN replace an earlier copy's
                }
                open.get(e.lsn()).add(e);
                copyCount++;
                copyLastLsn = e.lsn();
                return null;
            }
        }
    }

    private void newCopy() {
        copyLsns = new HashSet<>();
        copyCount = 0;
        copyLastLsn = -1;
    }
}
