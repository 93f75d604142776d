package io.dbmigrate.activities.snapshot;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * The copy's durable state, on the target in dbmigrate's own schema for the migration (removed by CleanupTarget):
 * every unit of the plan with the slot position it belongs to, and, once copied, its rows and bytes. A unit's row is
 * marked in the same transaction that loads its data, so a crash never leaves a unit half-loaded and marked, or
 * loaded and unmarked.
 */
final class CopyState {
    static final String TABLE = "snapshot_copy";

    private final String qualified;

    CopyState(String schema) {
        this.qualified = Sql.table(schema, TABLE);
    }

    void create(Connection tgt, String schema) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(schema));
            st.execute("CREATE TABLE IF NOT EXISTS " + qualified + " (rel_schema text NOT NULL, rel_name text NOT NULL,"
                    + " unit int NOT NULL, first_page bigint, end_page bigint, estimated_rows bigint NOT NULL,"
                    + " format text NOT NULL, slot_lsn text NOT NULL, rows bigint, bytes bigint, copied_at timestamptz,"
                    + " PRIMARY KEY (rel_schema, rel_name, unit))");
        }
    }

    /** The plan's units in order, and the slot position they were planned for (null: no plan yet). */
    record Loaded(String slotLsn, List<CopyUnit> units) {}

    Loaded load(Connection tgt) throws SQLException {
        List<CopyUnit> units = new ArrayList<>();
        String lsn = null;
        try (Statement st = tgt.createStatement();
             ResultSet rs = st.executeQuery("SELECT rel_schema, rel_name, unit, first_page, end_page, estimated_rows,"
                     + " format, slot_lsn, rows, bytes FROM " + qualified + " ORDER BY rel_schema, rel_name, unit")) {
            while (rs.next()) {
                units.add(new CopyUnit(new TableRef(rs.getString(1), rs.getString(2)), rs.getInt(3),
                        (Long) rs.getObject(4), (Long) rs.getObject(5), rs.getLong(6), rs.getString(7),
                        (Long) rs.getObject(9), (Long) rs.getObject(10)));
                lsn = rs.getString(8);
            }
        }
        return new Loaded(lsn, units);
    }

    void replace(Connection tgt, List<CopyUnit> units, String slotLsn) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            st.execute("DELETE FROM " + qualified);
        }
        try (PreparedStatement ps = tgt.prepareStatement("INSERT INTO " + qualified + " (rel_schema, rel_name, unit,"
                + " first_page, end_page, estimated_rows, format, slot_lsn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (CopyUnit u : units) {
                ps.setString(1, u.table().schema());
                ps.setString(2, u.table().name());
                ps.setInt(3, u.unit());
                setLong(ps, 4, u.firstPage());
                setLong(ps, 5, u.endPage());
                ps.setLong(6, u.estimatedRows());
                ps.setString(7, u.format());
                ps.setString(8, slotLsn);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Inside the unit's load transaction; fails if the plan was replaced meanwhile (another attempt started over). */
    void markDone(Connection tgt, CopyUnit u, String slotLsn, long rows, long bytes) throws SQLException {
        try (PreparedStatement ps = tgt.prepareStatement("UPDATE " + qualified + " SET rows = ?, bytes = ?, copied_at = now()"
                + " WHERE rel_schema = ? AND rel_name = ? AND unit = ? AND slot_lsn = ? AND rows IS NULL")) {
            ps.setLong(1, rows);
            ps.setLong(2, bytes);
            ps.setString(3, u.table().schema());
            ps.setString(4, u.table().name());
            ps.setInt(5, u.unit());
            ps.setString(6, slotLsn);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("copy unit " + u.table() + "#" + u.unit() + " is no longer pending for slot position "
                        + slotLsn + ": another attempt replaced the copy plan", "40001");
            }
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }
}
