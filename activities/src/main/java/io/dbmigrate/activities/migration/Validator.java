package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.TableMeta;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.activities.validation.ValidationEngine;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Rows compared by key: the rows the stream touched since the last live pass (the frozen check inside the pause and
 * the re-check before it), each row's hash read on both sides. Whole tables are the validation engine's
 * ({@link MigrationValidation#whole}).
 */
public final class Validator {
    /**
     * The key lookups (a join over many touched keys) run as long as they need: bounded by the validation activities'
     * 12-hour limit instead of the default five minutes. With
     * {@code row_security = off}, a policy that would hide rows from the migration role is an error, never a filter.
     */
    private static final Map<String, String> LONG_SCANS =
            Pg.timeouts(Duration.ofHours(12), Duration.ofHours(12).plusMinutes(1), Map.of("row_security", "off"));

    private Validator() {}

    /**
     * Live, only the rows at {@code keys}: read on the source, then on the target once it has caught up with that read,
     * and the rows that differ re-checked the same way up to {@code rounds} times. The row figures are the rows those
     * keys found on each side.
     */
    public static TableValidation liveKeys(Endpoint source, Endpoint target, TableRef t, java.util.Set<List<String>> keys,
            int rounds, ValidationEngine.CatchUp drain, Consumer<String> progress, boolean redact) throws SQLException {
        try (Connection src = Pg.connect(source, "dbmigrate-validate", LONG_SCANS); Connection tgt = Pg.connect(target, "dbmigrate-validate", LONG_SCANS)) {
            TableMeta meta = TableMeta.load(src, t);
            Map<List<String>, String> s = rowHashes(src, meta, keys);
            await(drain);
            Map<List<String>, String> g = rowHashes(tgt, meta, keys);
            java.util.Set<List<String>> differing = converge(src, tgt, meta, differing(s, g), rounds, drain, progress);
            return new TableValidation(t.toString(), s.size(), differing.isEmpty() ? s.size() : g.size(), 0,
                    describe(meta, differing, redact), keys.size());
        }
    }

    /** Re-reads the rows that differ (source, then the target after a drain) until they agree or the rounds are spent. */
    private static java.util.Set<List<String>> converge(Connection src, Connection tgt, TableMeta meta,
            java.util.Set<List<String>> differing, int rounds, ValidationEngine.CatchUp drain, Consumer<String> progress)
            throws SQLException {
        for (int round = 0; round < rounds && !differing.isEmpty(); round++) {
            progress.accept(meta.table() + ": re-checking " + differing.size() + " rows changed under the writer");
            Map<List<String>, String> s = rowHashes(src, meta, differing);
            await(drain);
            Map<List<String>, String> g = rowHashes(tgt, meta, differing);
            java.util.Set<List<String>> still = new java.util.HashSet<>();
            for (List<String> k : differing) {
                if (!java.util.Objects.equals(s.get(k), g.get(k))) {
                    still.add(k);
                }
            }
            differing = still;
        }
        return differing;
    }

    private static List<String> describe(TableMeta meta, java.util.Set<List<String>> keys, boolean redact) {
        return keys.stream().map(k -> MigrationValidation.keyName(meta.table().toString(), meta.primaryKey(), k, redact)).sorted()
                .limit(MigrationValidation.HISTORY_KEYS).toList();
    }

    private static void await(ValidationEngine.CatchUp drain) throws SQLException {
        try {
            drain.await();
        } catch (SQLException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted", "57014", e);
        } catch (Exception e) {
            throw new SQLException(e.getMessage(), "57014", e);
        }
    }

    private static java.util.Set<List<String>> differing(Map<List<String>, String> a, Map<List<String>, String> b) {
        java.util.Set<List<String>> keys = new java.util.HashSet<>(a.keySet());
        keys.addAll(b.keySet());
        keys.removeIf(k -> java.util.Objects.equals(a.get(k), b.get(k)));
        return keys;
    }

    /** pk text -> row hash, for the given keys. */
    static Map<List<String>, String> rowHashes(Connection c, TableMeta meta, java.util.Set<List<String>> keys) throws SQLException {
        List<String> pk = meta.primaryKey();
        String keyText = pk.stream().map(k -> "t." + Sql.ident(k) + "::text").collect(Collectors.joining(", "));
        String base = "SELECT " + keyText + ", hashtextextended(t::text, 0)::text FROM " + Sql.table(meta.table()) + " t";
        Map<List<String>, String> out = new java.util.HashMap<>();
        // the keys as one text array per key column, joined in one statement: a round trip per key (before that) or a
        // long IN list of row constructors (planned as one OR branch per key: 1.6 s for 12,000 keys in the demo's
        // pause) grows with the keys far faster than a join does
        List<String> aliases = new ArrayList<>();
        for (int i = 0; i < pk.size(); i++) {
            aliases.add("k" + i);
        }
        String unnest = "unnest(" + pk.stream().map(k -> "CAST(? AS text[])").collect(Collectors.joining(", ")) + ") AS k("
                + String.join(", ", aliases) + ")";
        String on = java.util.stream.IntStream.range(0, pk.size()).mapToObj(i -> "t." + Sql.ident(pk.get(i)) + " = CAST(k."
                + aliases.get(i) + " AS " + meta.columns().get(pk.get(i)).type() + ")").collect(Collectors.joining(" AND "));
        List<List<String>> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += KEY_BATCH) {
            List<List<String>> part = all.subList(from, Math.min(all.size(), from + KEY_BATCH));
            try (PreparedStatement ps = c.prepareStatement(base + " JOIN " + unnest + " ON " + on)) {
                for (int col = 0; col < pk.size(); col++) {
                    Object[] values = new Object[part.size()];
                    for (int r = 0; r < part.size(); r++) {
                        values[r] = part.get(r).get(col);
                    }
                    ps.setArray(col + 1, c.createArrayOf("text", values));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    read(rs, pk.size(), out);
                }
            }
        }
        return out;
    }

    /** Keys per statement: bounds one statement's arrays, not its round trips. */
    private static final int KEY_BATCH = 50_000;

    /**
     * Inside the write freeze, only the rows at {@code keys} (PostgreSQL text, primary-key order), read by key on both
     * sides and compared by row hash; a row present on one side only is a difference. The row figures are the rows
     * those keys found on each side.
     */
    public static TableValidation keys(Endpoint source, Endpoint target, TableRef t, java.util.Set<List<String>> keys,
            boolean redact) throws SQLException {
        try (Connection src = Pg.connect(source, "dbmigrate-validate", LONG_SCANS); Connection tgt = Pg.connect(target, "dbmigrate-validate", LONG_SCANS)) {
            TableMeta meta = TableMeta.load(src, t);
            Map<List<String>, String> s = rowHashes(src, meta, keys);
            Map<List<String>, String> g = rowHashes(tgt, meta, keys);
            return new TableValidation(t.toString(), s.size(), g.size(), 0, describe(meta, differing(s, g), redact), keys.size());
        }
    }

    private static void read(ResultSet rs, int keyCols, Map<List<String>, String> out) throws SQLException {
        while (rs.next()) {
            List<String> k = new ArrayList<>();
            for (int i = 1; i <= keyCols; i++) {
                k.add(rs.getString(i));
            }
            out.put(k, rs.getString(keyCols + 1));
        }
    }
}
