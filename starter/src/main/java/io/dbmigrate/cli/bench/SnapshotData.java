package io.dbmigrate.cli.bench;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The data of {@code bench snapshot}: four tables of different widths in schema {@code public}, generated inside the
 * source by {@code INSERT ... SELECT ... FROM generate_series} (no row crosses the network), deterministic in the row
 * number so two runs of the same size hold the same values. {@code snap_docs} holds 2-8 KB text bodies made of md5
 * chains: random hex, which pglz cannot shrink by the 25% it asks for, so the bodies are stored out of line in the
 * TOAST table, uncompressed.
 */
public final class SnapshotData {

    /**
     * One table: its columns (the primary key is added after the load, as a copy that builds indexes last does), its
     * share of the rows in percent, and the SELECT that generates row {@code g}.
     */
    public record Table(String name, int percent, String columns, String select) {
        public TableRef ref() {
            return new TableRef("public", name);
        }

        /** Its rows out of {@code total}; the last table takes what rounding leaves. */
        public long rows(long total) {
            if (this == TABLES.get(TABLES.size() - 1)) {
                return total - TABLES.subList(0, TABLES.size() - 1).stream().mapToLong(t -> t.rows(total)).sum();
            }
            return total * percent / 100;
        }

        public String createTable() {
            return "CREATE TABLE " + Sql.table(ref()) + " (" + columns + ")";
        }

        public String addPrimaryKey() {
            return "ALTER TABLE " + Sql.table(ref()) + " ADD PRIMARY KEY (id)";
        }
    }

    public static final List<Table> TABLES = List.of(
            // about 40 bytes a row
            new Table("snap_narrow", 50, "id bigint NOT NULL, n int NOT NULL, v bigint NOT NULL",
                    "SELECT g, (g % 1000)::int, g * 7919 FROM generate_series(1, ?) g"),
            // about 150 bytes a row
            new Table("snap_orders", 30, """
                    id bigint NOT NULL, customer_id bigint NOT NULL, status text NOT NULL, total numeric(12,2) NOT NULL,
                    placed_at timestamptz NOT NULL, ref uuid NOT NULL, paid boolean NOT NULL, note text""",
                    """
                    SELECT g, 1 + g % 50000, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4], ((g * 7919) % 100000) / 100.0,
                           timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', md5(g::text)::uuid, g % 3 = 0,
                           CASE WHEN g % 5 = 0 THEN 'gift wrap, leave at the door: ' || g END
                      FROM generate_series(1, ?) g"""),
            // about 400 bytes a row, 20 columns of most common types
            new Table("snap_wide", 18, """
                    id bigint NOT NULL, a int, b int, c bigint, d bigint, e smallint, f double precision, g numeric(18,6),
                    h date, i timestamptz, j time, k boolean, l text, m text, n text, o varchar(64), p jsonb, q int[],
                    r bytea, s uuid""",
                    """
                    SELECT g, g % 97, g % 1013, g * 31, g * 131071, (g % 30000)::smallint, g / 7.0, (g * 7919) / 1000.0,
                           date '2020-01-01' + (g % 3000)::int, timestamptz '2026-01-01 00:00:00+00' - g * interval '1 minute',
                           time '00:00' + (g % 86400) * interval '1 second', g % 2 = 0, 'line one of ' || g,
                           md5(g::text), repeat('x', (g % 40)::int), 'code-' || (g % 100000),
                           jsonb_build_object('id', g, 'tags', jsonb_build_array('a', 'b', g % 10), 'score', g % 1000),
                           ARRAY[(g % 10)::int, (g % 100)::int, (g % 1000)::int], decode(md5(g::text), 'hex'),
                           md5((g * 3)::text)::uuid
                      FROM generate_series(1, ?) g"""),
            // 2-8 KB of md5 chains a row: out of line in the TOAST table
            new Table("snap_docs", 2, "id bigint NOT NULL, title text NOT NULL, body text NOT NULL, digest bytea NOT NULL",
                    """
                    SELECT g, 'document ' || g,
                           (SELECT string_agg(md5(g::text || '.' || s), '') FROM generate_series(1, 64 + (g * 7919) % 193) s),
                           decode(md5(g::text), 'hex')
                      FROM generate_series(1, ?) g"""));

    /** Loading a few million rows and building their keys may take minutes on a busy machine. */
    private static final Map<String, String> LONG_STATEMENTS = Pg.timeouts(Duration.ofHours(2), Duration.ofHours(2).plusMinutes(1));

    private SnapshotData() {}

    public static List<TableRef> tables() {
        return TABLES.stream().map(Table::ref).toList();
    }

    /**
     * Creates the tables in {@code db} (an empty database) and loads {@code rows} rows in all; then the primary keys,
     * VACUUM (visibility map and hint bits set, so no copy pays for them) and a checkpoint.
     */
    public static void load(Endpoint db, long rows) throws SQLException {
        try (Connection c = Pg.connect(db, "dbmigrate-bench", LONG_STATEMENTS); Statement st = c.createStatement()) {
            for (Table t : TABLES) {
                st.execute(t.createTable());
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + Sql.table(t.ref()) + " " + t.select())) {
                    ps.setLong(1, t.rows(rows));
                    ps.execute();
                }
                st.execute(t.addPrimaryKey());
            }
            st.execute("VACUUM (FREEZE, ANALYZE)");
            st.execute("CHECKPOINT");
        }
    }

    /** Rows in the tables of {@code db}. */
    public static long rows(Endpoint db) throws SQLException {
        long n = 0;
        try (Connection c = Pg.connect(db, "dbmigrate-bench", LONG_STATEMENTS); Statement st = c.createStatement()) {
            for (Table t : TABLES) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + Sql.table(t.ref()))) {
                    rs.next();
                    n += rs.getLong(1);
                }
            }
        }
        return n;
    }

    /** Bytes of the tables' data in {@code db}: heap and TOAST ({@code pg_table_size}), no indexes. */
    public static long bytes(Endpoint db) throws SQLException {
        try (Connection c = Pg.connect(db, "dbmigrate-bench")) {
            long n = 0;
            for (Table t : TABLES) {
                n += Long.parseLong(Pg.one(c, "SELECT pg_table_size(?::regclass)::text", Sql.table(t.ref())));
            }
            return n;
        }
    }
}
