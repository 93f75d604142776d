package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Parallel;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.DbObject.Kind;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The target schema's postData section, built after the initial copy (as pg_dump's sections and pgcopydb do):
 * loading into tables that carry only their primary key is faster, and an index built once is faster than one kept
 * up row by row. Two stages: first each table family's indexes and unique and exclusion constraints (a partitioned
 * table with its partitions: their indexes attach to each other), families in parallel; then foreign keys, triggers,
 * views and the rest, in the script's order (a foreign key may need another family's unique index).
 *
 * <p>Idempotent: an object the target has already (by name on its table) is skipped, so a retry after a worker's
 * death builds only what is missing. Each statement commits on its own.
 */
public final class PostData {
    /** An index build on a large table may take hours. */
    static final Duration BUILD_TIMEOUT = Duration.ofHours(12);

    private PostData() {}

    /** Builds the postData of {@code created}'s tables; returns the schema-level objects it created (views). */
    public static List<DbObject> finish(MigrationPlan plan, List<DbObject> created, int parallelism, Runnable heartbeat)
            throws SQLException, InterruptedException {
        List<TableRef> tables = created.stream().filter(o -> o.kind() == Kind.TABLE)
                .map(o -> new TableRef(o.schema(), o.name())).toList();
        if (tables.isEmpty()) {
            return List.of();
        }
        Set<String> schemas = new LinkedHashSet<>();
        tables.forEach(t -> schemas.add(t.schema()));
        SchemaScript script;
        try (Connection src = Pg.connect(plan.source(), "dbmigrate-schema")) {
            script = SourceSchema.extract(src, schemas, tables, TargetSchema.listsTables(plan));
        }
        Map<String, List<SchemaObject>> families = new LinkedHashMap<>();
        List<SchemaObject> rest = new ArrayList<>();
        try (Connection tgt = Pg.connect(plan.target(), "dbmigrate-schema")) {
            for (SchemaObject o : script.postData()) {
                if (exists(tgt, o)) {
                    continue;
                }
                if (o.table() != null && (o.object().kind() == Kind.INDEX || (o.object().kind() == Kind.CONSTRAINT
                        && o.statements().stream().noneMatch(s -> s.contains(" FOREIGN KEY "))))) {
                    families.computeIfAbsent(root(tgt, o.table()), k -> new ArrayList<>()).add(o);
                } else {
                    rest.add(o);
                }
            }
        }
        List<DbObject> made = Collections.synchronizedList(new ArrayList<>());
        inParallel(plan, new ArrayList<>(families.values()), parallelism, heartbeat, made);
        inParallel(plan, rest.isEmpty() ? List.of() : List.of(rest), 1, heartbeat, made);
        return List.copyOf(made);
    }

    /** Runs each list on a connection of its own, in order within the list, {@code parallelism} lists at a time. */
    private static void inParallel(MigrationPlan plan, List<List<SchemaObject>> lists, int parallelism, Runnable heartbeat,
            List<DbObject> made) throws SQLException, InterruptedException {
        List<Parallel.Task> tasks = new ArrayList<>();
        for (List<SchemaObject> list : lists) {
            tasks.add(() -> build(plan, list, made));
        }
        Parallel.run("dbmigrate-postdata", tasks, parallelism, heartbeat, () -> {});
    }

    private static void build(MigrationPlan plan, List<SchemaObject> list, List<DbObject> made) throws SQLException {
        try (Connection tgt = Pg.connect(plan.target(), "dbmigrate-postdata", Pg.timeouts(BUILD_TIMEOUT, BUILD_TIMEOUT.plusMinutes(1)))) {
            tgt.setAutoCommit(false);
            for (SchemaObject o : list) {
                TargetSchema.begin(tgt);
                try (Statement st = tgt.createStatement()) {
                    // index builds sort: more memory than the default 64 MB, for this session only
                    st.execute("SET LOCAL maintenance_work_mem = '256MB'");
                }
                made.addAll(TargetSchema.applySection(tgt, "postData", List.of(o)));
                tgt.commit();
            }
        }
    }

    /** The partition root a table belongs to (itself when it is none), as the family's key. */
    private static String root(Connection tgt, TableRef t) throws SQLException {
        return Pg.one(tgt, "SELECT coalesce(pg_catalog.pg_partition_root(?::regclass), ?::regclass)::text", Sql.table(t), Sql.table(t));
    }

    /** Whether the target has the object already: by name, on its table for a table's parts. */
    static boolean exists(Connection tgt, SchemaObject o) throws SQLException {
        DbObject d = o.object();
        if (o.table() == null) {
            return TargetSchema.exists(tgt, d);
        }
        String table = Sql.table(o.table());
        return switch (d.kind()) {
            case INDEX -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
                    + " WHERE i.indrelid = ?::regclass AND c.relname = ?", table, d.name());
            case CONSTRAINT -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ?::regclass AND conname = ?",
                    table, d.name());
            case TRIGGER -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = ?::regclass AND tgname = ?",
                    table, d.name());
            case RULE -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_rewrite WHERE ev_class = ?::regclass AND rulename = ?",
                    table, d.name());
            case POLICY -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = ?::regclass AND polname = ?",
                    table, d.name());
            case STATISTICS -> Pg.exists(tgt, "SELECT 1 FROM pg_catalog.pg_statistic_ext WHERE stxrelid = ?::regclass AND stxname = ?",
                    table, d.name());
            default -> false;
        };
    }
}
