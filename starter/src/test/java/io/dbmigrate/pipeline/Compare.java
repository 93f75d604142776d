package io.dbmigrate.pipeline;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.workflows.model.Endpoint;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Whole-table comparison as PostgreSQL text, row by row in key order. */
public final class Compare {
    private Compare() {}

    /** Multiset difference, for messages: what only {@code a} has, and what only {@code b} has (first 10 each). */
    public static String diff(List<String> a, List<String> b) {
        java.util.Map<String, Integer> count = new java.util.HashMap<>();
        a.forEach(r -> count.merge(r, 1, Integer::sum));
        b.forEach(r -> count.merge(r, -1, Integer::sum));
        List<String> onlyA = new ArrayList<>();
        List<String> onlyB = new ArrayList<>();
        count.forEach((r, n) -> {
            for (int i = 0; i < Math.abs(n); i++) {
                (n > 0 ? onlyA : onlyB).add(r);
            }
        });
        return "missing on target " + onlyA.size() + " " + onlyA.stream().sorted().limit(10).toList()
                + "; extra on target " + onlyB.size() + " " + onlyB.stream().sorted().limit(10).toList();
    }

    /** Every row as its PostgreSQL text form, ordered by that text ({@code qualified} is trusted test input). */
    public static List<String> tableText(Endpoint e, String qualified) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = Pg.connect(e, "it-compare"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT t::text FROM " + qualified + " t ORDER BY 1")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
