package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.SecretRef;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Creates the target's tables from the source's own definitions (pg_dump --schema-only of the migrated schemas:
 * types, sequences, tables, keys, indexes, constraints exactly as declared), never from guessed types.
 */
public final class TargetSchema {
    private TargetSchema() {}

    /** Returns the tables it created ("schema.table"); tables that already exist are left alone. */
    public static List<String> prepare(MigrationPlan plan, List<TableRef> tables) throws SQLException, IOException, InterruptedException {
        List<TableRef> missing = new ArrayList<>();
        try (Connection tgt = Pg.connect(plan.target(), "dbmigrate-schema")) {
            for (TableRef t : tables) {
                if (Preflight.columns(tgt, t).isEmpty()) {
                    missing.add(t);
                }
            }
            if (missing.isEmpty()) {
                return List.of();
            }
            Set<String> schemas = new LinkedHashSet<>();
            missing.forEach(t -> schemas.add(t.schema()));
            String ddl = dump(plan, schemas);
            try (Statement st = tgt.createStatement()) {
                tgt.setAutoCommit(false);
                st.execute(ddl);
                tgt.commit();
            } catch (SQLException e) {
                tgt.rollback();
                throw new SQLException("creating the target schema from the source's definitions failed: " + e.getMessage(), e.getSQLState(), e);
            }
        }
        return missing.stream().map(TableRef::toString).toList();
    }

    static String dump(MigrationPlan plan, Set<String> schemas) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(pgDump(), "--schema-only", "--no-owner", "--no-privileges",
                "--no-publications", "--no-subscriptions", "--no-comments",
                "--host", plan.source().host(), "--port", Integer.toString(plan.source().port()),
                "--username", plan.source().user(), "--dbname", plan.source().database()));
        for (String s : schemas) {
            cmd.add("--schema=" + pattern(s));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PGPASSWORD", SecretRef.resolve(plan.source().passwordRef()));
        pb.redirectErrorStream(false);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("pg_dump --schema-only failed: " + new String(err, StandardCharsets.UTF_8).trim());
        }
        StringBuilder b = new StringBuilder();
        for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("\\")) {
                continue; // psql meta-commands (restrict/unrestrict lines of current pg_dump): not SQL
            }
            // the schema may exist on the target already (public always does)
            b.append(line.startsWith("CREATE SCHEMA ") ? line.replace("CREATE SCHEMA ", "CREATE SCHEMA IF NOT EXISTS ") : line).append('\n');
        }
        return b.toString();
    }

    /** pg_dump's -n takes a pattern: quote the name so no character in it acts as a wildcard. */
    static String pattern(String schema) {
        return "\"" + schema.replace("\"", "\"\"") + "\"";
    }

    /** DBMIGRATE_PG_DUMP, else the newest /usr/lib/postgresql/N/bin/pg_dump, else pg_dump on the PATH. */
    static String pgDump() throws IOException {
        String env = System.getenv("DBMIGRATE_PG_DUMP");
        if (env != null && !env.isBlank()) {
            return env;
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> s = Files.list(debian)) {
                var best = s.map(v -> v.resolve("bin/pg_dump")).filter(Files::isExecutable)
                        .max(Comparator.comparingInt(b -> parse(b.getParent().getParent().getFileName().toString())));
                if (best.isPresent()) {
                    return best.get().toString();
                }
            }
        }
        return "pg_dump";
    }

    private static int parse(String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Compensation: drops exactly the tables {@link #prepare} created (never one that existed before). */
    public static void dropCreated(MigrationPlan plan, List<String> created) throws SQLException {
        if (created.isEmpty()) {
            return;
        }
        try (Connection tgt = Pg.connect(plan.target(), "dbmigrate-schema"); Statement st = tgt.createStatement()) {
            for (String t : created) {
                st.execute("DROP TABLE IF EXISTS " + Sql.table(TableRef.parse(t)) + " CASCADE");
            }
        }
    }
}
