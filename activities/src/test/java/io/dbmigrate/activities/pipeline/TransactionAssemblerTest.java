package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dbmigrate.workflows.model.TableRef;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The record sequences Debezium produced on these machines when Connect or Kafka restarted mid-transaction. */
class TransactionAssemblerTest {
    private long offset;

    private ChangeEvent begin(String xid) {
        return new ChangeEvent(ChangeEvent.Kind.BEGIN, offset++, xid, null, null, null, 0, 0, false, 0);
    }

    private ChangeEvent end(String xid, long commitLsn, long count) {
        return new ChangeEvent(ChangeEvent.Kind.END, offset++, xid, null, null, null, commitLsn, 0, false, count);
    }

    private ChangeEvent change(String xid, long lsn, long order, String v) {
        return new ChangeEvent(ChangeEvent.Kind.INSERT, offset++, xid, new TableRef("public", "t"), null, Map.of("v", v), lsn, 1, false, order);
    }

    private static List<String> values(TransactionAssembler.Unit u) {
        return u.events().stream().map(e -> e.after().get("v")).toList();
    }

    @Test
    void plainTransaction() {
        TransactionAssembler a = new TransactionAssembler(-1);
        assertNull(a.accept(begin("7")));
        assertNull(a.accept(change("7", 100, 1, "a")));
        assertNull(a.accept(change("7", 200, 2, "b")));
        TransactionAssembler.Unit u = a.accept(end("7", 300, 2));
        assertEquals(List.of("a", "b"), values(u));
        assertEquals(300, u.commitLsn());
        assertEquals(u.endOffset(), a.completeOffset());
    }

    /** Seen in ResilienceIT: after the restart Debezium sent a new BEGIN and only the change after its last committed one, numbered from 1, with event_count 1. */
    @Test
    void resumeInsideATransactionKeepsWhatCameBefore() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(begin("25748"));
        a.accept(change("25748", 56061392, 1, "e1"));
        a.accept(change("25748", 56061488, 2, "e2"));
        a.accept(change("25748", 56061632, 3, "e3"));
        a.accept(begin("25748"));
        a.accept(change("25748", 56061728, 1, "e4"));
        TransactionAssembler.Unit u = a.accept(end("25748", 56061856, 1));
        assertEquals(List.of("e1", "e2", "e3", "e4"), values(u));
    }

    @Test
    void resumeThatResendsChangesWeHoldCountsThemOnce() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(begin("9"));
        a.accept(change("9", 10, 1, "e1"));
        a.accept(change("9", 20, 2, "e2"));
        a.accept(change("9", 30, 3, "e3"));
        a.accept(begin("9"));
        a.accept(change("9", 20, 1, "e2"));
        a.accept(change("9", 30, 2, "e3"));
        a.accept(change("9", 40, 3, "e4"));
        assertEquals(List.of("e1", "e2", "e3", "e4"), values(a.accept(end("9", 50, 3))));
    }

    @Test
    void resendWithoutBeginIsAlsoMerged() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(begin("9"));
        a.accept(change("9", 10, 1, "e1"));
        a.accept(change("9", 20, 2, "e2"));
        a.accept(change("9", 30, 3, "e3"));
        // the task restarted and went back to its last committed change, without a new BEGIN
        a.accept(change("9", 20, 2, "e2"));
        a.accept(change("9", 30, 3, "e3"));
        a.accept(change("9", 40, 4, "e4"));
        assertEquals(List.of("e1", "e2", "e3", "e4"), values(a.accept(end("9", 50, 4))));
    }

    @Test
    void severalChangesAtOneLsnAreKept() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(begin("5"));
        a.accept(change("5", 10, 1, "r1"));
        a.accept(change("5", 10, 2, "r2"));
        a.accept(change("5", 10, 3, "r3"));
        assertEquals(List.of("r1", "r2", "r3"), values(a.accept(end("5", 20, 3))));
    }

    @Test
    void aHoleIsRefused() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(begin("5"));
        a.accept(change("5", 10, 1, "r1"));
        assertThrows(ApplyDataException.class, () -> a.accept(end("5", 20, 3)));
    }

    @Test
    void aRestartedTransactionDoesNotMoveTheResumePointPastItsStart() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(begin("1"));
        a.accept(change("1", 10, 1, "x"));
        TransactionAssembler.Unit u = a.accept(end("1", 20, 1));
        long afterFirst = a.completeOffset();
        a.accept(begin("2"));
        a.accept(change("2", 30, 1, "y"));
        a.accept(new ChangeEvent(ChangeEvent.Kind.HEARTBEAT, offset++, null, null, null, null, 0, 0, false, 0));
        assertEquals(afterFirst, a.completeOffset(), "a heartbeat inside an open transaction must not move the resume point");
        assertEquals(u.endOffset(), afterFirst);
    }

    // Since Connect drops BEGIN records (DropTransactionBegin), the topic holds the same sequences without them.

    @Test
    void plainTransactionsWithoutBegin() {
        TransactionAssembler a = new TransactionAssembler(-1);
        assertNull(a.accept(change("7", 100, 1, "a")));
        assertNull(a.accept(change("7", 200, 2, "b")));
        assertEquals(List.of("a", "b"), values(a.accept(end("7", 300, 2))));
        assertNull(a.accept(change("8", 400, 1, "c")));
        TransactionAssembler.Unit u = a.accept(end("8", 500, 1));
        assertEquals(List.of("c"), values(u));
        assertEquals(500, u.commitLsn());
        assertEquals(u.endOffset(), a.completeOffset());
    }

    /** The ResilienceIT sequence without its BEGINs: only the restarted counter says a copy begins. */
    @Test
    void resumeInsideATransactionWithoutBeginKeepsWhatCameBefore() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(change("25748", 56061392, 1, "e1"));
        a.accept(change("25748", 56061488, 2, "e2"));
        a.accept(change("25748", 56061632, 3, "e3"));
        a.accept(change("25748", 56061728, 1, "e4"));
        assertEquals(List.of("e1", "e2", "e3", "e4"), values(a.accept(end("25748", 56061856, 1))));
    }

    @Test
    void resendFromTheStartWithoutBeginCountsChangesOnce() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(change("9", 10, 1, "e1"));
        a.accept(change("9", 20, 2, "e2"));
        a.accept(change("9", 10, 1, "e1"));
        a.accept(change("9", 20, 2, "e2"));
        a.accept(change("9", 30, 3, "e3"));
        assertEquals(List.of("e1", "e2", "e3"), values(a.accept(end("9", 50, 3))));
    }

    @Test
    void aHoleWithoutBeginIsRefused() {
        TransactionAssembler a = new TransactionAssembler(-1);
        a.accept(change("5", 10, 1, "r1"));
        a.accept(change("5", 20, 2, "r2"));
        assertThrows(ApplyDataException.class, () -> a.accept(end("5", 30, 3)));
    }

    /** Feeds {@code events}, taking what may be written ahead after each; returns everything handed out, in order. */
    private static List<ChangeEvent> feed(TransactionAssembler a, List<ChangeEvent> events, List<TransactionAssembler.Unit> units,
            int[] highWater) {
        List<ChangeEvent> out = new java.util.ArrayList<>();
        for (ChangeEvent e : events) {
            TransactionAssembler.Unit u = a.accept(e);
            highWater[0] = Math.max(highWater[0], a.held());
            if (u != null) {
                units.add(u);
                out.addAll(u.events());
            } else {
                out.addAll(a.takeApplicable());
            }
        }
        return out;
    }

    /** Issue 17: one source transaction of 300,000 changes flows through holding at most about 10,000 of them. */
    @Test
    void aHugeTransactionIsHandedOutInBoundedParts() {
        TransactionAssembler a = new TransactionAssembler(-1);
        List<ChangeEvent> in = new java.util.ArrayList<>();
        for (int i = 1; i <= 300_000; i++) {
            in.add(change("42", 1000L + i, i, "r" + i));
        }
        in.add(end("42", 999_999, 300_000));
        List<TransactionAssembler.Unit> units = new java.util.ArrayList<>();
        int[] high = {0};
        List<ChangeEvent> out = feed(a, in, units, high);
        assertEquals(1, units.size());
        assertEquals(true, units.get(0).continued());
        assertEquals(999_999, units.get(0).commitLsn());
        assertEquals(in.subList(0, 300_000), out, "every change once, in order");
        assertEquals(true, high[0] <= TransactionAssembler.MAX_HELD_CHANGES, "held at most " + high[0]);
    }

    /** Large rows: the bound is in bytes too (a few MB a row would otherwise be gigabytes at 10,000 changes). */
    @Test
    void largeRowsAreHandedOutByTheirSize() {
        TransactionAssembler a = new TransactionAssembler(-1);
        String mb = "x".repeat(1 << 20);
        List<ChangeEvent> in = new java.util.ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            in.add(change("43", 1000L + i, i, mb + i));
        }
        in.add(end("43", 5000, 200));
        int[] high = {0};
        List<TransactionAssembler.Unit> units = new java.util.ArrayList<>();
        List<ChangeEvent> out = feed(a, in, units, high);
        assertEquals(in.subList(0, 200), out);
        long bound = 64L * 1024 * 1024 / TransactionAssembler.bytes(in.get(0)) + 2; // 64 MB of 2 MB rows
        assertEquals(true, high[0] <= bound, "held " + high[0] + " rows of 1 MB, bound " + bound);
    }

    /** Debezium's DELETE + CREATE of a key update share an LSN: a part handed out never ends between them. */
    @Test
    void changesAtOneLsnAreHandedOutTogether() {
        TransactionAssembler a = new TransactionAssembler(-1);
        List<ChangeEvent> in = new java.util.ArrayList<>();
        int order = 0;
        for (int i = 1; i <= 15_000; i++) {
            in.add(change("44", 1000L + i, ++order, "d" + i));
            in.add(change("44", 1000L + i, ++order, "c" + i));
        }
        in.add(end("44", 99_999, order));
        for (ChangeEvent e : in) {
            if (a.accept(e) == null) {
                List<ChangeEvent> part = a.takeApplicable();
                if (!part.isEmpty()) {
                    assertEquals(true, part.get(part.size() - 1).after().get("v").startsWith("c"), "a part ends inside a pair");
                }
            }
        }
    }

    /** Debezium restarted after part of a large transaction was handed out, and sent it again from its start. */
    @Test
    void aResendAfterPartsWereHandedOutAddsOnlyWhatIsNew() {
        TransactionAssembler a = new TransactionAssembler(-1);
        List<ChangeEvent> in = new java.util.ArrayList<>();
        for (int i = 1; i <= 15_000; i++) {
            in.add(change("45", 1000L + i, i, "r" + i));
        }
        for (int i = 1; i <= 20_000; i++) {
            in.add(change("45", 1000L + i, i, "r" + i));
        }
        in.add(end("45", 99_999, 20_000));
        int[] high = {0};
        List<TransactionAssembler.Unit> units = new java.util.ArrayList<>();
        List<ChangeEvent> out = feed(a, in, units, high);
        assertEquals(20_000, out.size());
        assertEquals(in.subList(15_000, 35_000).stream().map(e -> e.after().get("v")).toList(),
                out.stream().map(e -> e.after().get("v")).toList());
    }

    /** A transaction found to be applied already after part of it was written is dropped when read again. */
    @Test
    void aSkippedTransactionIsDroppedUpToItsEnd() {
        TransactionAssembler a = new TransactionAssembler(-1);
        ChangeEvent c1 = change("46", 10, 1, "a");
        ChangeEvent c2 = change("46", 20, 2, "b");
        ChangeEvent e = end("46", 30, 2);
        a.skip("46", e.offset());
        assertNull(a.accept(c1));
        assertNull(a.accept(c2));
        assertNull(a.accept(e));
        assertEquals(e.offset(), a.completeOffset());
        assertNull(a.accept(change("47", 40, 1, "c")));
        assertEquals(List.of("c"), values(a.accept(end("47", 50, 1))));
    }
}
