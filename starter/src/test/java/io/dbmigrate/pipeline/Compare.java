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
