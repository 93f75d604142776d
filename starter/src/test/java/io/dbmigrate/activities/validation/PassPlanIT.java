package io.dbmigrate.activities.validation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.validation.TwoClusters;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A block range of a pass reads its own blocks, however costly its chunk expression looks to the planner. A parallel
 * plan cannot scan a TID range: it reads the whole table in every range and filters on ctid, so a table of k ranges
 * was read k times (measured on the bench's text key: a range of a third of the table read all of it, with two
 * workers started per statement).
 */
class PassPlanIT {
    static final String DB = "dbmigrate_pass_plan_it";

    @Test
    void aBlockRangeIsReadByTidEvenWhereAParallelPlanLooksCheaper() throws Exception {
        TwoClusters.get();
        TwoClusters.freshDatabases(DB, "");
        Endpoint src = TwoClusters.source(DB);
        Endpoint tgt = TwoClusters.target(DB);
        for (Endpoint e : List.of(src, tgt)) {
            TwoClusters.exec(e, "CREATE TABLE items (code text PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO items SELECT 'item-' || lpad(g::text, 8, '0'), g FROM generate_series(1, 20000) g", "ANALYZE items",
                    // a database whose settings favour parallel plans: the planner's choice is then the engine's to refuse
                    "ALTER DATABASE " + DB + " SET parallel_setup_cost = 0",
                    "ALTER DATABASE " + DB + " SET parallel_tuple_cost = 0",
                    "ALTER DATABASE " + DB + " SET min_parallel_table_scan_size = 0");
        }
        TableRef t = new TableRef("public", "items");
        // as many bounds as the bench's tables have: a deep CASE tree, which the planner costs per row
        List<List<String>> bounds = java.util.stream.IntStream.range(1, 256).mapToObj(i -> List.of(String.format("item-%08d", i * 78))).toList();
        try (Sessions s = new Sessions(src, "source", 1); Sessions g = new Sessions(tgt, "target", 1)) {
            TableSql sql;
            try (Connection a = s.get(); Connection b = g.get()) {
                sql = TableSql.load(a, b, t);
            }
            TableSql.ChunkSums stmt = sql.chunkSums(bounds.size(), true);
            // the setup would catch a parallel plan: a plain session plans one
            try (Connection plain = Pg.connect(src, "it")) {
                String plan = explain(plain, stmt, bounds);
                assertTrue(plan.contains("Gather"), "a plain session should plan this statement in parallel here:\n" + plan);
            }
            try (Connection engine = s.get()) {
                String plan = explain(engine, stmt, bounds);
                assertTrue(plan.contains("Tid Range Scan"), plan);
                assertFalse(plan.contains("Gather") || plan.contains("Parallel"), plan);
            }
        }
    }

    @Test
    void chunksReadByKeyAreBitmapScansOfTheirRangesNeverIndexScansOrAWholeTable() throws Exception {
        TwoClusters.get();
        TwoClusters.freshDatabases(DB + "_key", "");
        Endpoint src = TwoClusters.source(DB + "_key");
        Endpoint tgt = TwoClusters.target(DB + "_key");
        for (Endpoint e : List.of(src, tgt)) {
            TwoClusters.exec(e, "CREATE TABLE ids (id bigint PRIMARY KEY, v text)",
                    "INSERT INTO ids SELECT g, md5(g::text) FROM generate_series(1, 50000) g",
                    "CREATE TABLE days (day int, seq bigint, v text, PRIMARY KEY (day, seq))",
                    "INSERT INTO days SELECT g / 1000, g, md5(g::text) FROM generate_series(1, 50000) g", "ANALYZE ids, days");
        }
        // a single key in key order: the planner's own choice is an index scan, a row at a time
        assertBitmapScans(src, tgt, new TableRef("public", "ids"), List.of(List.of("3000", "4000"), List.of("4000", "5000")));
        // a composite key: its row comparison is estimated at a share of the table whatever the bounds
        assertBitmapScans(src, tgt, new TableRef("public", "days"),
                List.of(List.of("3", "4"), List.of("4", "5"), List.of("3000", "4000"), List.of("4000", "5000")));
    }

    /** EXPLAIN of a run of two chunks read by key, as the engine plans it: {@code lowsAndHighs} per key column. */
    private static void assertBitmapScans(Endpoint src, Endpoint tgt, TableRef t, List<List<String>> lowsAndHighs) throws Exception {
        try (Sessions s = new Sessions(src, "source", 1); Sessions g = new Sessions(tgt, "target", 1)) {
            TableSql sql;
            try (Connection a = s.get(); Connection b = g.get()) {
                sql = TableSql.load(a, b, t);
            }
            try (Connection c = s.get()) {
                c.setAutoCommit(false);
                try (java.sql.Statement st = c.createStatement()) {
                    for (String set : ValidationEngine.KEY_RANGE_PLAN) {
                        st.execute(set);
                    }
                }
                StringBuilder plan = new StringBuilder();
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql.keyRangeSums(true))) {
                    ps.setArray(1, c.createArrayOf("int4", new Integer[] {1, 2}));
                    for (int i = 0; i < lowsAndHighs.size(); i++) {
                        ps.setArray(2 + i, c.createArrayOf("text", lowsAndHighs.get(i).toArray()));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            plan.append(rs.getString(1)).append('\n');
                        }
                    }
                }
                c.rollback();
                assertTrue(plan.toString().contains("Bitmap Heap Scan on " + t.name()), plan.toString());
                assertFalse(plan.toString().contains("Seq Scan on " + t.name()) || plan.toString().contains("Index Scan using"),
                        plan.toString());
            }
        }
    }

    private static long blocks(Connection c) throws SQLException {
        return Long.parseLong(Pg.one(c, "SELECT pg_relation_size('items') / 8192"));
    }

    private static String explain(Connection c, TableSql.ChunkSums stmt, List<List<String>> bounds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + stmt.sql())) {
            int next = 1;
            for (int b : stmt.boundOrder()) {
                ps.setObject(next++, bounds.get(b).get(0), Types.OTHER);
            }
            ps.setString(next++, "(0,0)");
            // a third of the table's blocks
            ps.setString(next, "(" + blocks(c) / 3 + ",0)");
            StringBuilder out = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.append(rs.getString(1)).append('\n');
                }
            }
            return out.toString();
        }
    }
}
