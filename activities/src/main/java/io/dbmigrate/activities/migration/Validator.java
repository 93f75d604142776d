package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.TableMeta;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.TableRef;
import io.dbmigrate.workflows.model.TableValidation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Row counts and order-free checksums ({@code sum(hashtextextended(row::text, 0))}, computed inside each database)
 * per primary-key chunk, on both sides. Chunk boundaries come from the source. A mismatching chunk is reported by
 * its key range.
 */
public final class Validator {
    /** One chunk: keys in (lo, hi]; null means unbounded. */
    record Chunk(List<String> lo, List<String> hi) {
        String describe() {
            return "(" + (lo == null ? "-inf" : String.join(",", lo)) + " .. " + (hi == null ? "+inf" : String.join(",", hi)) + "]";
        }
    }

    record Sum(long rows, String hash) {}

    private Validator() {}

    public static TableValidation table(Endpoint source, Endpoint target, TableRef t, int chunkRows, Consumer<String> progress)
            throws SQLException {
        try (Connection src = Pg.connect(source, "dbmigrate-validate"); Connection tgt = Pg.connect(target, "dbmigrate-validate")) {
            src.setAutoCommit(false);
            tgt.setAutoCommit(false);
            TableMeta meta = TableMeta.load(src, t);
            List<Chunk> chunks = chunks(src, meta, chunkRows);
            long srcRows = 0;
            long tgtRows = 0;
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < chunks.size(); i++) {
                Sum a = sum(src, meta, chunks.get(i));
                Sum b = sum(tgt, meta, chunks.get(i));
                srcRows += a.rows();
                tgtRows += b.rows();
                if (!a.equals(b)) {
                    bad.add(chunks.get(i).describe());
                }
                progress.accept(t + " chunk " + (i + 1) + "/" + chunks.size());
            }
            src.commit();
            tgt.commit();
            return new TableValidation(t.toString(), srcRows, tgtRows, chunks.size(), bad);
        }
    }

    static List<Chunk> chunks(Connection src, TableMeta meta, int chunkRows) throws SQLException {
        List<String> pk = meta.primaryKey();
        if (pk.isEmpty()) {
            return List.of(new Chunk(null, null));
        }
        String keys = Sql.idents(pk);
        String keyText = pk.stream().map(k -> Sql.ident(k) + "::text").collect(Collectors.joining(", "));
        List<List<String>> bounds = new ArrayList<>();
        try (PreparedStatement ps = src.prepareStatement("SELECT " + keyText + " FROM (SELECT " + keys
                + ", row_number() OVER (ORDER BY " + keys + ") AS rn FROM " + Sql.table(meta.table()) + ") x WHERE rn % ? = 0 ORDER BY rn")) {
            ps.setInt(1, chunkRows);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<String> b = new ArrayList<>();
                    for (int i = 1; i <= pk.size(); i++) {
                        b.add(rs.getString(i));
                    }
                    bounds.add(b);
                }
            }
        }
        List<Chunk> out = new ArrayList<>();
        List<String> lo = null;
        for (List<String> hi : bounds) {
            out.add(new Chunk(lo, hi));
            lo = hi;
        }
        out.add(new Chunk(lo, null));
        return out;
    }

    static Sum sum(Connection c, TableMeta meta, Chunk chunk) throws SQLException {
        List<String> pk = meta.primaryKey();
        String keys = "(" + Sql.idents(pk) + ")";
        String row = "(" + pk.stream().map(k -> "CAST(? AS " + meta.columns().get(k).type() + ")").collect(Collectors.joining(", ")) + ")";
        List<String> where = new ArrayList<>();
        if (chunk.lo() != null) {
            where.add(keys + " > " + row);
        }
        if (chunk.hi() != null) {
            where.add(keys + " <= " + row);
        }
        String sql = "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM " + Sql.table(meta.table()) + " t"
                + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where));
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            for (List<String> bound : new List[] {chunk.lo(), chunk.hi()}) {
                if (bound != null) {
                    for (String v : bound) {
                        ps.setObject(i++, v, Types.OTHER);
                    }
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Sum(rs.getLong(1), rs.getString(2));
            }
        }
    }
}
