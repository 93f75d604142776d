package io.dbmigrate.activities.validation;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a validation records what it finished, and reads it back when it starts again (a Temporal activity keeps it
 * in its heartbeat details, so a retry after a worker death resumes from there). Per table: the chunk bounds chosen
 * the first time (a new sample would cut other chunks, and finished verdicts would no longer fit), each finished
 * chunk's verdict, and the table's report once it is whole. Implementations must be thread-safe: chunks finish in
 * parallel.
 */
public interface Progress {
    /** Chunk bounds recorded for this table by an earlier attempt. */
    Optional<List<List<String>>> bounds(String table);

    void planned(String table, List<List<String>> bounds);

    /**
     * One side's pass over a table in ranges: where each range starts (the last one is open-ended), which are done,
     * and the chunk sums of those done, added up (sums add, so a resumed pass goes on from them). The ranges are
     * block ranges, or with {@code byKey} runs of chunks read by their key ranges (a start is then a chunk index).
     */
    record Pass(@JsonProperty("sliceStarts") List<Long> sliceStarts, @JsonProperty("done") java.util.Set<Integer> done,
            @JsonProperty("sums") Map<Integer, Sum> sums, @JsonProperty("byKey") Boolean byKey) {
        /** A pass in block ranges. */
        public Pass(List<Long> sliceStarts, java.util.Set<Integer> done, Map<Integer, Sum> sums) {
            this(sliceStarts, done, sums, null);
        }

        /** Its ranges are runs of chunks read by key (recorded pass JSON without the field: block ranges). */
        public boolean keyRanges() {
            return Boolean.TRUE.equals(byKey);
        }

        Pass with(java.util.Set<Integer> done, Map<Integer, Sum> sums) {
            return new Pass(sliceStarts, done, sums, byKey);
        }
    }

    /** A side's pass as far as an earlier attempt got. */
    Optional<Pass> pass(String table, boolean source);

    /** Called after each range of the pass, with the side's pass so far. */
    void passed(String table, boolean source, Pass pass);

    /** Verdicts of the differing chunks already narrowed, by chunk index. */
    Map<Integer, ChunkVerdict> finished(String table);

    void finished(String table, ChunkVerdict verdict);

    /** A table's final report, when an earlier attempt got that far. */
    Optional<TableReport> report(String table);

    void reported(TableReport report);

    /** Nothing is kept: every run starts from scratch. */
    static Progress none() {
        return new InMemory();
    }

    /**
     * Kept in this object, which serialises to JSON as it is (for heartbeat details): {@code tables} by name.
     */
    final class InMemory implements Progress {
        /** One table's progress. */
        public record TableState(@JsonProperty("bounds") List<List<String>> bounds,
                @JsonProperty("sourcePass") Pass sourcePass, @JsonProperty("targetPass") Pass targetPass,
                @JsonProperty("finished") Map<Integer, ChunkVerdict> finished,
                @JsonProperty("report") TableReport report) {}

        private final Map<String, TableState> tables = new ConcurrentHashMap<>();

        public InMemory() {}

        public InMemory(@JsonProperty("tables") Map<String, TableState> tables) {
            if (tables != null) {
                tables.forEach((k, v) -> this.tables.put(k, new TableState(v.bounds(), v.sourcePass(), v.targetPass(),
                        new ConcurrentHashMap<>(v.finished() == null ? Map.of() : v.finished()), v.report())));
            }
        }

        @JsonProperty("tables")
        public synchronized Map<String, TableState> tables() {
            Map<String, TableState> copy = new TreeMap<>();
            tables.forEach((k, v) -> copy.put(k, new TableState(v.bounds(), v.sourcePass(), v.targetPass(), new TreeMap<>(v.finished()), v.report())));
            return copy;
        }

        private TableState state(String table) {
            return tables.computeIfAbsent(table, t -> new TableState(null, null, null, new ConcurrentHashMap<>(), null));
        }

        @Override
        public Optional<List<List<String>>> bounds(String table) {
            return Optional.ofNullable(state(table).bounds());
        }

        @Override
        public synchronized void planned(String table, List<List<String>> bounds) {
            TableState s = state(table);
            tables.put(table, new TableState(List.copyOf(bounds), s.sourcePass(), s.targetPass(), s.finished(), s.report()));
        }

        @Override
        public Optional<Pass> pass(String table, boolean source) {
            TableState s = state(table);
            return Optional.ofNullable(source ? s.sourcePass() : s.targetPass());
        }

        @Override
        public synchronized void passed(String table, boolean source, Pass pass) {
            TableState s = state(table);
            tables.put(table, new TableState(s.bounds(), source ? pass : s.sourcePass(), source ? s.targetPass() : pass, s.finished(),
                    s.report()));
        }

        @Override
        public Map<Integer, ChunkVerdict> finished(String table) {
            return Map.copyOf(state(table).finished());
        }

        @Override
        public synchronized void finished(String table, ChunkVerdict verdict) {
            state(table).finished().put(verdict.index(), verdict);
        }

        @Override
        public Optional<TableReport> report(String table) {
            return Optional.ofNullable(state(table).report());
        }

        @Override
        public synchronized void reported(TableReport report) {
            TableState s = state(report.table());
            // a whole table needs no bounds, sums or verdicts any more: the state stays small; which block ranges were
            // read stays, so an attempt that resumes after it counts them among those it did not read again
            tables.put(report.table(), new TableState(null, withoutSums(s.sourcePass()), withoutSums(s.targetPass()),
                    new ConcurrentHashMap<>(), report));
        }

        private static Pass withoutSums(Pass p) {
            return p == null ? null : p.with(p.done(), Map.of());
        }

        /** The ranges of both sides' passes, in the tables begun so far. */
        public long rangesPlanned() {
            return tables().values().stream().mapToLong(s -> (s.sourcePass() == null ? 0 : s.sourcePass().sliceStarts().size())
                    + (s.targetPass() == null ? 0 : s.targetPass().sliceStarts().size())).sum();
        }

        /** Ranges of both sides read so far, in finished tables and in those still going. */
        public long blockRangesDone() {
            return tables().values().stream().mapToLong(s -> (s.sourcePass() == null ? 0 : s.sourcePass().done().size())
                    + (s.targetPass() == null ? 0 : s.targetPass().done().size())).sum();
        }
    }
}
