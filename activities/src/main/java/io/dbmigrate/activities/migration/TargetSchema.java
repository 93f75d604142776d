package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.DbObject.Kind;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Creates the target's tables from the source's own definitions ({@link SourceSchema}: types, sequences, functions,
 * tables, keys, indexes, constraints, triggers and views exactly as declared, rendered by the source server itself),
 * never from guessed types, and never needing pg_dump.
 */
public final class TargetSchema {
    /** The target refused a statement (the message names the object and the section); nothing was left created. */
    public static final class Refused extends RuntimeException {
        private final String sqlState;

        Refused(String message, String sqlState, SQLException cause) {
            super(message, cause);
            this.sqlState = sqlState;
        }

        /**
         * Whether trying again may help: a lost connection, a deadlock, a lock or statement timeout, too little
         * memory. A definition the target rejects (undefined object, syntax, duplicate) fails the same way every time.
         */
        public boolean transientFailure() {
            return sqlState == null || sqlState.startsWith("08") || sqlState.startsWith("40") || sqlState.startsWith("53")
                    || sqlState.startsWith("55") || sqlState.startsWith("57") || sqlState.startsWith("58");
        }
    }

    private TargetSchema() {}

    /**
     * Creates the tables of {@code tables} that the target lacks, with whatever of their schemas the target lacks too
     * (types, sequences, functions, views), preData then postData in one target transaction. Tables that exist are
     * left alone, with their indexes and triggers. Returns what it created, schema-level objects only, in creation
     * order (their indexes, constraints and triggers go with the tables).
     */
    public static List<DbObject> prepare(MigrationPlan plan, List<TableRef> tables) throws SQLException {
        return prepare(plan, tables, true);
    }

    /**
     * As {@link #prepare(MigrationPlan, List)}; without {@code postData} only the preData section (tables with their
     * primary keys, and what they need), so the data is loaded before indexes and constraints are built
     * ({@link #finish}).
     */
    public static List<DbObject> prepare(MigrationPlan plan, List<TableRef> tables, boolean postData) throws SQLException {
        try (Connection tgt = Pg.connect(plan.target(), "dbmigrate-schema")) {
            List<TableRef> missing = new ArrayList<>();
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
            SchemaScript script;
            try (Connection src = Pg.connect(plan.source(), "dbmigrate-schema")) {
                script = SourceSchema.extract(src, schemas, missing, listsTables(plan));
            }
            return create(tgt, postData ? script : new SchemaScript(script.preData(), List.of()));
        }
    }

    /** A plan that lists its tables migrates those and what they need, not the rest of their schemas. */
    static boolean listsTables(MigrationPlan plan) {
        return plan.tables() != null && !plan.tables().isEmpty();
    }

    /** Both sections in one transaction of {@code tgt}: all of it, or (on any error) nothing. */
    public static List<DbObject> create(Connection tgt, SchemaScript script) throws SQLException {
        tgt.setAutoCommit(false);
        try {
            begin(tgt);
            SchemaScript todo = script.without(existing(tgt, script));
            List<DbObject> created = new ArrayList<>();
            created.addAll(applySection(tgt, "preData", todo.preData()));
            created.addAll(applySection(tgt, "postData", todo.postData()));
            tgt.commit();
            return created;
        } catch (SQLException | RuntimeException e) {
            tgt.rollback();
            throw e;
        } finally {
            tgt.setAutoCommit(true);
        }
    }

    /**
     * The session settings the statements are written for, local to the open transaction: an empty search_path (every
     * name in them is qualified) and, as pg_dump does, no checking of function bodies (a body may name a table that
     * comes later).
     */
    public static void begin(Connection tgt) throws SQLException {
        try (Statement st = tgt.createStatement()) {
            st.execute("SELECT pg_catalog.set_config('search_path', '', true), pg_catalog.set_config('check_function_bodies', 'off', true)");
        }
    }

    /**
     * Runs one section's objects in order inside the caller's transaction (opened with {@link #begin}); returns the
     * schema-level objects among them. A statement the target refuses ends it with {@link Refused}, naming the object;
     * the caller rolls back.
     */
    public static List<DbObject> applySection(Connection tgt, String section, List<SchemaObject> objects) throws SQLException {
        List<DbObject> created = new ArrayList<>();
        try (Statement st = tgt.createStatement()) {
            for (SchemaObject o : objects) {
                for (String sql : o.statements()) {
                    try {
                        st.execute(sql);
                    } catch (SQLException e) {
                        throw new Refused("creating the target schema failed at " + section + " " + o.describe() + ": " + e.getMessage()
                                + " (the whole schema step was rolled back; nothing of it is left on the target). Statement: " + sql,
                                e.getSQLState(), e);
                    }
                }
                if (o.table() == null && o.object().kind().standalone() && !partition(o)) {
                    created.add(o.object());
                }
            }
        }
        return created;
    }

    /** A partition goes with its parent; the created list names the parent only (it stays short). */
    private static boolean partition(SchemaObject o) {
        if (o.object().kind() != Kind.TABLE) {
            return false;
        }
        String create = o.statements().get(0);
        String table = Sql.table(o.object().schema(), o.object().name());
        return (create.startsWith("CREATE TABLE " + table + " PARTITION OF ") || create.startsWith("CREATE UNLOGGED TABLE " + table + " PARTITION OF "));
    }

    /** The schema-level objects of the script that the target already has (by kind and name; functions by argument types). */
    static Predicate<SchemaObject> existing(Connection tgt, SchemaScript script) throws SQLException {
        Set<DbObject> present = new HashSet<>();
        for (List<SchemaObject> section : List.of(script.preData(), script.postData())) {
            for (SchemaObject o : section) {
                if (o.table() == null && exists(tgt, o.object())) {
                    present.add(o.object());
                }
            }
        }
        // a sequence's OWNED BY (table set, object the sequence) goes with the sequence
        return o -> present.contains(o.object());
    }

    static boolean exists(Connection tgt, DbObject o) throws SQLException {
        return switch (o.kind()) {
            case SCHEMA -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ?", o.name());
            case COLLATION -> Pg.exists(tgt, """
                    SELECT 1 FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
                     WHERE n.nspname = ? AND c.collname = ?""", o.schema(), o.name());
            case TYPE, DOMAIN -> Pg.exists(tgt, """
                    SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = ? AND t.typname = ?""", o.schema(), o.name());
            case SEQUENCE, TABLE, VIEW -> Pg.exists(tgt, """
                    SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ? AND c.relname = ?""", o.schema(), o.name());
            // argument types as the source rendered them, with the same empty search_path (set by begin)
            case FUNCTION -> Pg.exists(tgt, """
                    SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = ? AND p.proname = ? AND pg_catalog.oidvectortypes(p.proargtypes) = ?""", o.schema(), o.name(), o.args());
            default -> false;
        };
    }

    /**
     * Compensation: drops exactly what {@link #prepare} created, newest first (a view before the table it reads, a
     * table before its types), each on its own. Newest first is not always enough: a table's trigger may call a
     * function created after the table. So what could not go is tried again once the rest went, until a round drops
     * nothing more; what is still there then (something created since depends on it) is named in the error. Tables
     * go with CASCADE, as before: their own indexes, constraints, triggers and partitions, and whatever was built on
     * them since. Every drop is IF EXISTS: a second run finds nothing to do.
     */
    public static void dropCreated(MigrationPlan plan, List<DbObject> created) throws SQLException {
        List<DbObject> left = new ArrayList<>(created);
        java.util.Collections.reverse(left);
        Map<DbObject, String> errors = new LinkedHashMap<>();
        try (Connection tgt = Pg.connect(plan.target(), "dbmigrate-schema"); Statement st = tgt.createStatement()) {
            while (!left.isEmpty()) {
                errors.clear();
                for (DbObject o : left) {
                    try {
                        st.execute(dropStatement(o));
                    } catch (SQLException e) {
                        errors.put(o, e.getMessage());
                    }
                }
                if (errors.size() == left.size()) {
                    break; // a round without progress
                }
                left = new ArrayList<>(errors.keySet());
            }
        }
        if (!errors.isEmpty()) {
            throw new SQLException("could not drop what the schema step created on the target: " + errors.entrySet().stream()
                    .map(e -> e.getKey() + ": " + e.getValue()).collect(java.util.stream.Collectors.joining("; ")));
        }
    }

    static String dropStatement(DbObject o) {
        String name = o.schema() == null ? Sql.ident(o.name()) : Sql.table(o.schema(), o.name());
        return switch (o.kind()) {
            case SCHEMA -> "DROP SCHEMA IF EXISTS " + name;
            case COLLATION -> "DROP COLLATION IF EXISTS " + name;
            case TYPE -> "DROP TYPE IF EXISTS " + name;
            case DOMAIN -> "DROP DOMAIN IF EXISTS " + name;
            case SEQUENCE -> "DROP SEQUENCE IF EXISTS " + name;
            // the argument types as the source's server rendered them (schema-qualified): they pick the overload
            case FUNCTION -> "DROP ROUTINE IF EXISTS " + name + "(" + o.args() + ")";
            case TABLE -> "DROP TABLE IF EXISTS " + name + " CASCADE";
            case VIEW -> "DROP VIEW IF EXISTS " + name;
            default -> throw new IllegalArgumentException("not dropped on its own: " + o);
        };
    }
}
