package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.impl.MigrationActivitiesImpl;
import io.dbmigrate.activities.migration.SchemaObject;
import io.dbmigrate.activities.migration.SchemaScript;
import io.dbmigrate.activities.migration.SourceSchema;
import io.dbmigrate.activities.migration.PostData;
import io.dbmigrate.activities.migration.TargetSchema;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.SecretRef;
import io.dbmigrate.workflows.activities.MigrationActivities;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.DbObject.Kind;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.model.TableRef;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The target schema step without pg_dump, on the real stack's clusters: a source schema of every kind of object it
 * renders (schema/rich-source.sql: enum, a domain over it with a CHECK, a composite over domains, a range type with a
 * function, collations, identity and serial columns, a generated column, defaults calling functions, CHECK, unique,
 * exclusion and foreign-key constraints, partial and expression indexes, triggers, a partitioned table with a
 * sub-partitioned partition and default partitions, a view over a view, statistics, hostile names, a second schema
 * using the first one's types) is prepared on an empty target, which must then be the same as the source.
 */
class SchemaFidelityIT {
    static final String DB = "fidelity";
    static final Set<String> SCHEMAS = new LinkedHashSet<>(List.of("App \"Core\"", "Reports"));
    static List<DbObject> created;

    static MigrationPlan plan(String db, List<String> tables) {
        return new MigrationPlan("fidelity", PipelineStack.source(db), PipelineStack.target(db), List.copyOf(SCHEMAS), tables,
                null, "auto", null, null, null);
    }

    @BeforeAll
    static void prepare() throws Exception {
        PipelineStack.freshDatabases(DB);
        PipelineStack.exec(PipelineStack.source(DB), richSchema());
        created = TargetSchema.prepare(plan(DB, null), rootTables(PipelineStack.source(DB)));
    }

    static String richSchema() throws IOException {
        try (InputStream in = SchemaFidelityIT.class.getResourceAsStream("/schema/rich-source.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** What preflight resolves for these schemas: every table that is not a partition. */
    static List<TableRef> rootTables(Endpoint e) throws SQLException {
        List<TableRef> out = new ArrayList<>();
        try (Connection c = Pg.connect(e, "it"); PreparedStatement ps = c.prepareStatement("""
                SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ANY (?) AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1, 2""")) {
            ps.setArray(1, c.createArrayOf("text", SCHEMAS.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new TableRef(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return out;
    }

    static SchemaScript extract(Endpoint e) throws SQLException {
        try (Connection c = Pg.connect(e, "it")) {
            return SourceSchema.extract(c, SCHEMAS);
        }
    }

    /** (a) The target's catalogs, rendered by the same code, give the very same script, object by object, in order. */
    @Test
    void theTargetRendersTheSameScriptAsTheSource() throws Exception {
        SchemaScript source = extract(PipelineStack.source(DB));
        SchemaScript target = extract(PipelineStack.target(DB));
        assertEquals(source.preDataStatements(), target.preDataStatements());
        assertEquals(source.postDataStatements(), target.postDataStatements());
        assertEquals(source, target);

        // the fixture exercises every kind, in its section
        Set<Kind> pre = source.preData().stream().map(o -> o.object().kind()).collect(Collectors.toSet());
        Set<Kind> post = source.postData().stream().map(o -> o.object().kind()).collect(Collectors.toSet());
        assertEquals(Set.of(Kind.SCHEMA, Kind.COLLATION, Kind.TYPE, Kind.DOMAIN, Kind.SEQUENCE, Kind.FUNCTION, Kind.TABLE, Kind.CONSTRAINT), pre);
        assertEquals(Set.of(Kind.CONSTRAINT, Kind.INDEX, Kind.TRIGGER, Kind.VIEW, Kind.STATISTICS), post);
        assertTrue(source.preDataStatements().stream().anyMatch(s -> s.contains(" PRIMARY KEY ")), "keys are preData");
        assertTrue(source.postDataStatements().stream().noneMatch(s -> s.contains(" PRIMARY KEY ")), "keys are preData");
        assertTrue(source.preDataStatements().stream().anyMatch(s -> s.contains(" PARTITION OF ") && s.endsWith(" DEFAULT")));

        // dependency order: the domain after its enum, the composite after its domains, the view after the view it reads
        List<String> order = Stream.concat(source.preData().stream(), source.postData().stream()).map(SchemaObject::describe).toList();
        assertBefore(order, "type \"App \"\"Core\"\"\".\"mood\"", "domain \"App \"\"Core\"\"\".\"good_mood\"");
        assertBefore(order, "domain \"App \"\"Core\"\"\".\"positive\"", "type \"App \"\"Core\"\"\".\"money_pair\"");
        assertBefore(order, "view \"App \"\"Core\"\"\".\"big_invoices\"", "view \"App \"\"Core\"\"\".\"Big \"\"Customers\"\"\"");
        assertBefore(order, "view \"App \"\"Core\"\"\".\"Big \"\"Customers\"\"\"", "view \"Reports\".\"mood of the day\"");

        // what the saga records: schema-level objects only, partitions with their parent, nothing of the data
        assertTrue(created.contains(DbObject.of(Kind.SCHEMA, null, "App \"Core\"")), created.toString());
        assertTrue(created.contains(DbObject.of(Kind.DOMAIN, "App \"Core\"", "good_mood")), created.toString());
        assertTrue(created.contains(DbObject.of(Kind.VIEW, "Reports", "mood of the day")), created.toString());
        assertTrue(created.contains(DbObject.table(new TableRef("App \"Core\"", "events"))), created.toString());
        assertFalse(created.contains(DbObject.table(new TableRef("App \"Core\"", "events_2024"))), created.toString());
        assertTrue(created.stream().allMatch(o -> o.kind().standalone()), created.toString());
    }

    static void assertBefore(List<String> order, String first, String then) {
        assertTrue(order.indexOf(first) >= 0 && order.indexOf(first) < order.indexOf(then), first + " before " + then + " in " + order);
    }

    /**
     * (b) Independently of dbmigrate's code: pg_dump --schema-only of both databases, by the machine's pg_dump of the
     * clusters' major version (CI installs postgresql-15, the stack runs it), gives the same text.
     */
    @Test
    void pgDumpSeesTheSameSchemaOnBothSides() throws Exception {
        int major;
        try (Connection c = Pg.connect(PipelineStack.source(DB), "it")) {
            major = Integer.parseInt(Pg.one(c, "SELECT current_setting('server_version_num')")) / 10000;
        }
        Path pgDump = Path.of("/usr/lib/postgresql/" + major + "/bin/pg_dump");
        Assumptions.assumeTrue(Files.isExecutable(pgDump), "skipped: no pg_dump of PostgreSQL " + major + " on this machine ("
                + pgDump + "); the stack runs PostgreSQL " + major + " and an older or newer pg_dump would not compare the same");
        String source = schemaDump(pgDump, PipelineStack.source(DB));
        String target = schemaDump(pgDump, PipelineStack.target(DB));
        assertTrue(source.contains("CREATE TABLE \"App \"\"Core\"\"\".events_2024") && source.contains("CREATE TRIGGER \"Touch it\""), source);
        assertEquals(source, target);
    }

    /** pg_dump --schema-only without comments, blank lines and its per-run \restrict key. */
    static String schemaDump(Path pgDump, Endpoint e) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(pgDump.toString(), "--schema-only", "--no-owner", "--no-privileges",
                "--host", e.host(), "--port", Integer.toString(e.port()), "--username", e.user(), "--dbname", e.database());
        pb.environment().put("PGPASSWORD", SecretRef.resolve(e.passwordRef()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return out.lines().filter(l -> !l.isBlank() && !l.startsWith("--") && !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict"))
                .collect(Collectors.joining("\n"));
    }

    /**
     * The compensation removes everything the step created (types, functions, sequences, views and schemas too, not
     * only tables) and nothing that was there before: an identical type, a sequence a created table owns on the source
     * (the table must not take it over, or dropping the table would drop it) and an unrelated table the target already
     * had stay, and the created list does not name them.
     */
    @Test
    void dropCreatedLeavesTheTargetAsItWas() throws Exception {
        String db = "fidelity_undo";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), richSchema());
        PipelineStack.exec(PipelineStack.target(db), "CREATE SCHEMA \"Reports\"", "CREATE TABLE \"Reports\".keep (id int PRIMARY KEY)",
                "CREATE SCHEMA \"App \"\"Core\"\"\"", "CREATE TYPE \"App \"\"Core\"\"\".mood AS ENUM ('sad', 'ok', 'happy', 'it''s complicated')",
                "CREATE SEQUENCE \"App \"\"Core\"\"\".invoice_serial_id_seq AS integer");
        List<String> before = catalog(PipelineStack.target(db));

        MigrationPlan plan = plan(db, null);
        List<DbObject> made = TargetSchema.prepare(plan, rootTables(PipelineStack.source(db)));
        assertFalse(made.contains(DbObject.of(Kind.TYPE, "App \"Core\"", "mood")), made.toString());
        assertFalse(made.contains(DbObject.of(Kind.SEQUENCE, "App \"Core\"", "invoice_serial_id_seq")), made.toString());
        assertFalse(made.contains(DbObject.of(Kind.SCHEMA, null, "Reports")), made.toString());
        assertFalse(made.contains(DbObject.of(Kind.SCHEMA, null, "App \"Core\"")), made.toString());
        assertTrue(made.contains(DbObject.of(Kind.DOMAIN, "App \"Core\"", "good_mood")), made.toString());

        TargetSchema.dropCreated(plan, made);
        assertEquals(before, catalog(PipelineStack.target(db)));
        TargetSchema.dropCreated(plan, made); // a compensation may run twice: the second finds nothing to do
    }

    /**
     * With the copy, the schema is built in two steps around the data: the tables with their keys first, then the
     * rest (PostData: table families in parallel, then foreign keys, triggers, views). The result is the same schema,
     * a second run builds nothing, and what it created is dropped with the rest on rollback.
     */
    @Test
    void preDataThenPostDataAfterTheDataGivesTheSameSchema() throws Exception {
        String db = "fidelity_sections";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), richSchema());
        List<String> before = catalog(PipelineStack.target(db));
        MigrationPlan plan = plan(db, null);
        List<DbObject> made = new ArrayList<>(TargetSchema.prepare(plan, rootTables(PipelineStack.source(db)), false));
        SchemaScript source = extract(PipelineStack.source(db));
        SchemaScript tablesOnly = extract(PipelineStack.target(db));
        assertEquals(source.preDataStatements(), tablesOnly.preDataStatements());
        assertTrue(tablesOnly.postData().isEmpty(), "postData waits for the data: " + tablesOnly.postDataStatements());

        AtomicInteger beats = new AtomicInteger();
        made.addAll(PostData.finish(plan, made, 4, beats::incrementAndGet));
        SchemaScript whole = extract(PipelineStack.target(db));
        assertEquals(source.preDataStatements(), whole.preDataStatements());
        // built in parallel, the objects have other oids than on the source, so another order: the same statements
        assertEquals(sorted(source.postDataStatements()), sorted(whole.postDataStatements()));
        assertTrue(made.contains(DbObject.of(Kind.VIEW, "Reports", "mood of the day")), made.toString());
        assertEquals(List.of(), PostData.finish(plan, made, 4, () -> {}), "a retry builds nothing again");
        assertEquals(whole, extract(PipelineStack.target(db)));

        TargetSchema.dropCreated(plan, made);
        assertEquals(before, catalog(PipelineStack.target(db)));
    }

    static List<String> sorted(List<String> statements) {
        return statements.stream().sorted().toList();
    }

    /** Only {@code orders} migrates; its foreign key references a table that stays behind. */
    static final String[] KEY_TO_OUTSIDE = {
        "CREATE TYPE status AS ENUM ('new', 'done')",
        "CREATE TABLE outside (id int PRIMARY KEY)",
        "CREATE TABLE orders (id int PRIMARY KEY, st status NOT NULL, outside_id int CONSTRAINT \"to outside\" REFERENCES outside)",
        "CREATE INDEX orders_st ON orders (st)"};

    /**
     * A postData statement the target refuses (a foreign key to a table outside the migrated set) rolls back the whole
     * step, preData included, and the error names the object and its section; retrying cannot help, so the activity
     * fails for good (TargetSchemaFailed) instead of retrying five times.
     */
    @Test
    void aRefusedPostDataStatementRollsBackEverythingAndNamesTheObject() throws Exception {
        String db = "fidelity_fk";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), KEY_TO_OUTSIDE);
        List<String> before = catalog(PipelineStack.target(db));
        MigrationPlan plan = new MigrationPlan("fidelity", PipelineStack.source(db), PipelineStack.target(db), List.of("public"),
                List.of("public.orders"), null, "auto", null, null, null);
        List<TableRef> tables = List.of(new TableRef("public", "orders"));

        TargetSchema.Refused refused = assertThrows(TargetSchema.Refused.class, () -> TargetSchema.prepare(plan, tables));
        assertTrue(refused.getMessage().startsWith("creating the target schema failed at postData constraint \"to outside\" on \"public\".\"orders\": "),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("relation \"public.outside\" does not exist"), refused.getMessage());
        assertFalse(refused.transientFailure());
        assertEquals(before, catalog(PipelineStack.target(db)), "nothing of preData (type, table, key) is left");

        ApplicationFailure failure = assertThrows(ApplicationFailure.class, () -> new MigrationActivitiesImpl(null, null).prepareTarget(plan, tables));
        assertEquals(MigrationActivities.TARGET_SCHEMA_FAILED, failure.getType());
        assertTrue(failure.isNonRetryable());
        assertEquals(before, catalog(PipelineStack.target(db)));
    }

    /** Every user object of the database by catalog and name, sorted: two equal lists are the same set of objects. */
    static List<String> catalog(Endpoint e) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = Pg.connect(e, "it"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT 'namespace ' || nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
                UNION ALL SELECT 'class ' || c.relkind::text || ' ' || n.nspname || '.' || c.relname FROM pg_class c
                  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                UNION ALL SELECT 'type ' || t.typtype::text || ' ' || n.nspname || '.' || t.typname FROM pg_type t
                  JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                UNION ALL SELECT 'proc ' || n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' FROM pg_proc p
                  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                UNION ALL SELECT 'collation ' || n.nspname || '.' || co.collname FROM pg_collation co
                  JOIN pg_namespace n ON n.oid = co.collnamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                UNION ALL SELECT 'constraint ' || conname FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
                  WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
                ORDER BY 1""")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /**
     * A sequence a migrated column uses from a schema that is not migrated (a default's nextval) is created on the target
     * with its schema, and synced at the switch like the others; a descending sequence is moved past the least value
     * the target holds, not back up to the greatest (its next value would be one already used).
     */
    @Test
    void sequencesFromOtherSchemasComeAlongAndDescendingOnesMoveDown() throws Exception {
        String db = "fidelity_seq";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db),
                "CREATE SCHEMA ids", "CREATE SEQUENCE ids.order_no START 1000",
                "CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT nextval('ids.order_no'), down bigint NOT NULL)",
                "CREATE SEQUENCE down_seq INCREMENT BY -1 START -1 MAXVALUE -1 OWNED BY orders.down",
                "ALTER TABLE orders ALTER down SET DEFAULT nextval('down_seq')",
                "INSERT INTO orders SELECT FROM generate_series(1, 5)");
        MigrationPlan plan = new MigrationPlan("fidelity", PipelineStack.source(db), PipelineStack.target(db), List.of("public"),
                null, null, "auto", null, null, null);
        List<TableRef> tables = List.of(new TableRef("public", "orders"));
        List<DbObject> made = TargetSchema.prepare(plan, tables);
        assertTrue(made.contains(DbObject.of(Kind.SEQUENCE, "ids", "order_no")), made::toString);
        // the rows as the copy would bring them; the source's sequences stand at 1004 and -5
        PipelineStack.exec(PipelineStack.target(db), "INSERT INTO orders VALUES (1000, -1), (1001, -2), (1002, -3), (1003, -4), (1004, -5)");
        List<String> synced = io.dbmigrate.activities.migration.Sequences.sync(plan, tables, () -> {});
        assertEquals(List.of("ids.order_no=1004", "public.down_seq=-5"), synced);
        try (Connection c = Pg.connect(PipelineStack.target(db), "it")) {
            assertEquals("1005", Pg.one(c, "SELECT nextval('ids.order_no')::text"));
            assertEquals("-6", Pg.one(c, "SELECT nextval('down_seq')::text"), "the next value is one never handed out");
        }
    }

    /**
     * A plan that lists its tables gets those tables (a partitioned one with its partitions) and what they need on the
     * target: the enum and the domain their columns use, the function a default calls, the sequence a serial owns; not
     * the rest of their schema (another table, a view, an unused type, function or sequence). The sequences synced at
     * the switch are the same ones.
     */
    @Test
    void aListOfTablesBringsOnlyThoseTablesAndWhatTheyNeed() throws Exception {
        String db = "fidelity_subset";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db),
                "CREATE TYPE mood AS ENUM ('ok', 'meh')", "CREATE DOMAIN code AS text CHECK (VALUE <> '')",
                "CREATE FUNCTION new_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' || random()::text $$",
                "CREATE TABLE orders (id serial PRIMARY KEY, m mood, c code DEFAULT new_code())",
                "CREATE TABLE parts (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k)",
                "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1)",
                "CREATE TYPE unused_kind AS ENUM ('x')", "CREATE FUNCTION unrelated() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
                "CREATE SEQUENCE unused_seq", "CREATE TABLE other (id int PRIMARY KEY)",
                "CREATE VIEW orders_v AS SELECT id, m FROM orders",
                "INSERT INTO orders (m) VALUES ('ok'), ('meh')");
        MigrationPlan plan = new MigrationPlan("fidelity", PipelineStack.source(db), PipelineStack.target(db), List.of("public"),
                List.of("public.orders", "public.parts"), null, "auto", null, null, null);
        List<TableRef> tables = List.of(new TableRef("public", "orders"), new TableRef("public", "parts"));
        TargetSchema.prepare(plan, tables);
        List<String> target = catalog(PipelineStack.target(db));
        for (String expected : List.of("class r public.orders", "class p public.parts", "class r public.parts_1",
                "class S public.orders_id_seq", "type e public.mood", "type d public.code", "proc public.new_code()")) {
            assertTrue(target.contains(expected), expected + " missing: " + target);
        }
        for (String absent : List.of("class r public.other", "class v public.orders_v", "type e public.unused_kind",
                "proc public.unrelated()", "class S public.unused_seq")) {
            assertFalse(target.contains(absent), absent + " created: " + target);
        }
        PipelineStack.exec(PipelineStack.target(db), "INSERT INTO orders VALUES (1, 'ok'), (2, 'meh')");
        assertEquals(List.of("public.orders_id_seq=2"), io.dbmigrate.activities.migration.Sequences.sync(plan, tables, () -> {}));
    }
}
