package io.dbmigrate.cli.bench;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.activities.validation.Difference.Kind;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The data of {@code bench validate}: four tables keyed by bigint, uuid, text and (int, bigint), generated the same
 * way inside each database, and known differences made on the target afterwards. The uuid and composite keys are in
 * no relation to the rows' physical order (a key range is spread over the whole table), the bigint and text keys
 * follow it.
 */
public final class ValidateData {
    /** One table: name, share of the rows in percent, key columns and types, and the key of row {@code g} as SQL and as text. */
    record Table(String name, int percent, String keyColumns, List<String> keyTypes) {
        TableRef ref() {
            return new TableRef("public", name);
        }

        long rows(long total) {
            if (this == TABLES.get(TABLES.size() - 1)) {
                return total - TABLES.subList(0, TABLES.size() - 1).stream().mapToLong(t -> t.rows(total)).sum();
            }
            return total * percent / 100;
        }

        List<String> keyNames() {
            return List.of(keyColumns.split(", "));
        }

        /** The key of generated row g as SQL over {@code g}. */
        String keySql() {
            return switch (name) {
                case "vb_bigint" -> "g";
                case "vb_uuid" -> "md5(g::text)::uuid";
                case "vb_text" -> "'item-' || lpad(g::text, 10, '0')";
                default -> "g % 100, g";
            };
        }

        /** The same key as PostgreSQL prints it. */
        List<String> key(long g) {
            return switch (name) {
                case "vb_bigint" -> List.of(Long.toString(g));
                case "vb_uuid" -> List.of(uuidOf(Long.toString(g)));
                case "vb_text" -> List.of(String.format("item-%010d", g));
                default -> List.of(Long.toString(g % 100), Long.toString(g));
            };
        }

        /** A key no generated row has, the n-th of its kind ({@code tag} tells kinds apart). */
        List<String> newKey(String tag, long n) {
            return switch (name) {
                case "vb_bigint" -> List.of(Long.toString(tag.equals("moved") ? -n : 1_000_000_000_000L + n));
                case "vb_uuid" -> List.of(uuidOf(tag + n));
                case "vb_text" -> List.of(tag + "-" + n);
                default -> List.of(tag.equals("moved") ? "-1" : "1000", Long.toString(n));
            };
        }
    }

    static final String COLUMNS = "n int NOT NULL, s text, f double precision, ts timestamptz NOT NULL, note text NOT NULL";
    /** s is NULL for every tenth row, f is 0 for every seventh: the rows the NULL-vs-'' and -0 differences pick. */
    static final String VALUES = "g % 1000, CASE WHEN g % 10 = 0 THEN NULL ELSE 'text ' || g END, "
            + "CASE WHEN g % 7 = 0 THEN 0 ELSE g / 3.0 END, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', md5(g::text)";

    static final List<Table> TABLES = List.of(
            new Table("vb_bigint", 40, "id", List.of("bigint")),
            new Table("vb_uuid", 25, "id", List.of("uuid")),
            new Table("vb_text", 20, "code", List.of("text")),
            new Table("vb_composite", 15, "tenant, seq", List.of("int", "bigint")));

    /** The kinds of injected difference, in turn. */
    enum Injection { MISSING, EXTRA, VALUE, NULL_VS_EMPTY, MINUS_ZERO, TRAILING_SPACE, MOVED }

    private static final Map<String, String> LONG_STATEMENTS = Pg.timeouts(Duration.ofHours(2), Duration.ofHours(2).plusMinutes(1));

    private ValidateData() {}

    static List<TableRef> tables() {
        return TABLES.stream().map(Table::ref).toList();
    }

    /** Creates and fills the tables in {@code db} (an empty database), then VACUUM (FREEZE, ANALYZE). */
    static void load(Endpoint db, long rows) throws SQLException {
        try (Connection c = Pg.connect(db, "dbmigrate-bench", LONG_STATEMENTS); Statement st = c.createStatement()) {
            for (Table t : TABLES) {
                String cols = t.name().equals("vb_composite") ? "tenant int NOT NULL, seq bigint NOT NULL"
                        : t.keyColumns() + " " + t.keyTypes().get(0) + " NOT NULL";
                st.execute("CREATE TABLE " + Sql.table(t.ref()) + " (" + cols + ", " + COLUMNS + ")");
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + Sql.table(t.ref()) + " SELECT " + t.keySql() + ", "
                        + VALUES + " FROM generate_series(1, ?) g")) {
                    ps.setLong(1, t.rows(rows));
                    ps.execute();
                }
                st.execute("ALTER TABLE " + Sql.table(t.ref()) + " ADD PRIMARY KEY (" + Sql.idents(t.keyNames()) + ")");
            }
            st.execute("VACUUM (FREEZE, ANALYZE)");
            st.execute("CHECKPOINT");
        }
    }

    /**
     * Makes {@code count} rows differ on the target, every kind in turn over the tables in turn, on rows spread over
     * each table; returns what a validation must find: table -> key text (columns joined by '|') -> kind. A moved row
     * (its key changed to one in another chunk) is two differences: its old key missing, its new key extra.
     */
    static Map<String, Map<String, Kind>> inject(Endpoint target, long rows, int count) throws SQLException {
        Map<String, Map<String, Kind>> expected = new TreeMap<>();
        Map<String, Set<Long>> used = new LinkedHashMap<>();
        int made = 0;
        try (Connection c = Pg.connect(target, "dbmigrate-bench")) {
            for (int i = 0; made < count; i++) {
                Table t = TABLES.get(i % TABLES.size());
                Injection kind = Injection.values()[(i / TABLES.size()) % Injection.values().length];
                if (kind == Injection.MOVED && count - made < 2) {
                    kind = Injection.VALUE;
                }
                long n = t.rows(rows);
                long g = 1 + (i * 7919L * 104729L) % n;
                Set<Long> taken = used.computeIfAbsent(t.name(), x -> new HashSet<>());
                while (taken.contains(g) || kind == Injection.NULL_VS_EMPTY && g % 10 != 0 || kind == Injection.MINUS_ZERO && g % 7 != 0
                        || (kind == Injection.TRAILING_SPACE || kind == Injection.VALUE) && g % 10 == 0) {
                    g = g % n + 1;
                }
                taken.add(g);
                Map<String, Kind> exp = expected.computeIfAbsent(t.ref().toString(), x -> new TreeMap<>());
                String where = " WHERE (" + Sql.idents(t.keyNames()) + ") = (" + String.join(", ",
                        t.keyTypes().stream().map(ty -> "CAST(? AS " + ty + ")").toList()) + ")";
                List<String> key = t.key(g);
                switch (kind) {
                    case MISSING -> exec(c, "DELETE FROM " + Sql.table(t.ref()) + where, key);
                    case EXTRA -> {
                        key = t.newKey("extra", i);
                        List<String> cols = new ArrayList<>(t.keyNames());
                        cols.add("n");
                        cols.add("ts");
                        cols.add("note");
                        List<String> args = new ArrayList<>(key);
                        exec(c, "INSERT INTO " + Sql.table(t.ref()) + " (" + Sql.idents(cols) + ") VALUES (" + String.join(", ",
                                t.keyTypes().stream().map(ty -> "CAST(? AS " + ty + ")").toList()) + ", 1, now(), 'extra')", args);
                    }
                    case VALUE -> exec(c, "UPDATE " + Sql.table(t.ref()) + " SET n = n + 1" + where, key);
                    case NULL_VS_EMPTY -> exec(c, "UPDATE " + Sql.table(t.ref()) + " SET s = ''" + where, key);
                    case MINUS_ZERO -> exec(c, "UPDATE " + Sql.table(t.ref()) + " SET f = '-0'" + where, key);
                    case TRAILING_SPACE -> exec(c, "UPDATE " + Sql.table(t.ref()) + " SET s = s || ' '" + where, key);
                    case MOVED -> {
                        List<String> to = t.newKey("moved", g);
                        List<String> args = new ArrayList<>(to);
                        args.addAll(key);
                        exec(c, "UPDATE " + Sql.table(t.ref()) + " SET (" + Sql.idents(t.keyNames()) + ") = (SELECT " + String.join(", ",
                                t.keyTypes().stream().map(ty -> "CAST(? AS " + ty + ")").toList()) + ")" + where, args);
                        exp.put(String.join("|", to), Kind.EXTRA);
                        made++;
                    }
                }
                exp.put(String.join("|", key), switch (kind) {
                    case MISSING, MOVED -> Kind.MISSING;
                    case EXTRA -> Kind.EXTRA;
                    default -> Kind.DIFFERENT;
                });
                made++;
            }
        }
        return expected;
    }

    private static void exec(Connection c, String sql, List<String> args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i), Types.OTHER);
            }
            if (ps.executeUpdate() != 1) {
                throw new SQLException("injecting a difference changed no row: " + sql + " " + args);
            }
        }
    }

    /** {@code md5(text)::uuid} as PostgreSQL prints it. */
    static String uuidOf(String text) {
        try {
            String h = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
            return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
