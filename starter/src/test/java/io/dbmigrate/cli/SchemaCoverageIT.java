package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.migration.Fence;
import io.dbmigrate.activities.migration.Leftovers;
import io.dbmigrate.activities.sql.Pg;
import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.deploy.StackLayout;
import io.dbmigrate.deploy.StackPorts;
import io.dbmigrate.it.ItPorts;
import io.dbmigrate.pipeline.Compare;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Issue 17's schema coverage, kept true by this test: docs/schema-coverage.md's table lists each case, its verdict and
 * the object a refusal must name; each case is {@code coverage/<case>.sql}. The carried cases migrate together, as an
 * ordinary owner role, under a writer per case, and are compared row by row as superuser; each refused case must be
 * refused in preflight by name, having created nothing.
 */
class SchemaCoverageIT {
    static final Path HOME = StackIT.ROOT.resolve("starter/target/it-coverage");
    // its own port block (see ItPorts)
    static final StackPorts PORT_BLOCK = ItPorts.block(31);
    static final String[] PORTS = PORT_BLOCK.asOptions().toArray(String[]::new);
    static final Path DOC = StackIT.ROOT.resolve("docs/schema-coverage.md");
    static final Path CASES = StackIT.ROOT.resolve("starter/src/test/resources/coverage");
    static final String OWNER = "coverage_owner";
    /** The source and target database of the carried cases; a refused case gets {@code coverage_<case>}. */
    static final String CARRIED_DB = "coverage";
    static final ObjectMapper JSON = new ObjectMapper();

    /** A row of the doc's table with its case file's sections. */
    record Case(String name, String verdict, String object, String setup, String writes) {
        boolean is(String v) {
            return verdict.equals(v);
        }
    }

    static final String CARRIED = "carried";
    static final String REFUSED = "refused";
    /**
     * Accepted by preflight; under writes the migration either completes exactly or rolls back by name, losing
     * nothing (which one depends on timing: a known gap, see the doc).
     */
    static final String ROLLED_BACK = "carried or rolled back";

    static Endpoint sourceAdmin;
    static Endpoint targetAdmin;
    static String ownerPasswordRef;
    static ConnectClient connect;

    @BeforeAll
    static void up() throws Exception {
        StackIT.cli("stack", "down", "--home", HOME.toString(), "--purge");
        StackIT.up(HOME, PORTS);
        StackContext ctx = new StackContext(new StackLayout(HOME, StackIT.ROOT), PORT_BLOCK);
        String superRef = "file:" + ctx.postgresPasswordFile();
        sourceAdmin = new Endpoint("127.0.0.1", PORT_BLOCK.sourcePostgres(), "postgres", StackContext.PG_SUPERUSER, superRef);
        targetAdmin = new Endpoint("127.0.0.1", PORT_BLOCK.targetPostgres(), "postgres", StackContext.PG_SUPERUSER, superRef);
        connect = new ConnectClient("http://127.0.0.1:" + PORT_BLOCK.connect());
        // in a directory of its own: Connect reads it through its directory config provider
        Path pw = HOME.resolve("coverage-secrets/" + OWNER + "-password");
        Files.createDirectories(pw.getParent());
        byte[] random = new byte[12];
        new SecureRandom().nextBytes(random);
        String password = HexFormat.of().formatHex(random);
        Files.writeString(pw, password);
        ownerPasswordRef = "file:" + pw;
        for (Endpoint admin : List.of(sourceAdmin, targetAdmin)) {
            Pg.exec(admin, "it-coverage", "CREATE ROLE " + OWNER + " LOGIN REPLICATION PASSWORD " + Sql.literal(password));
        }
        // preflight's warning followed: without it the target's foreign-key actions fire under the applier (see the doc)
        Pg.exec(targetAdmin, "it-coverage", "GRANT SET ON PARAMETER session_replication_role TO " + OWNER);
    }

    @AfterAll
    static void down() {
        StackIT.cli("stack", "down", "--home", HOME.toString());
    }

    // ---- the doc and the case files

    /** The doc's table, each row with its case file read. */
    static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        for (String[] row : docRows()) {
            String name = unquote(row[0]);
            Map<String, String> sql = sections(Files.readString(CASES.resolve(name + ".sql")));
            out.add(new Case(name, row[1], unquote(row[2]), sql.get("setup"), sql.get("writes")));
        }
        return out;
    }

    /** The cells of the rows of the table whose header starts with {@code | case | verdict | object |}. */
    static List<String[]> docRows() throws IOException {
        List<String> lines = Files.readAllLines(DOC);
        int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("| case | verdict | object |")).findFirst()
                .orElseThrow(() -> new AssertionError(DOC + " has no table starting with | case | verdict | object |")));
        List<String[]> rows = new ArrayList<>();
        for (String line : lines.subList(header + 2, lines.size())) {
            if (!line.startsWith("|")) {
                break;
            }
            String[] cells = line.substring(1, line.lastIndexOf('|')).split("(?<!\\\\)\\|", -1);
            for (int i = 0; i < cells.length; i++) {
                cells[i] = cells[i].strip();
            }
            rows.add(cells);
        }
        return rows;
    }

    static String unquote(String cell) {
        return cell.replace("`", "");
    }

    /** A case file's sections: the lines after {@code -- setup} and after {@code -- writes}. */
    static Map<String, String> sections(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        String current = null;
        for (String line : text.split("\n")) {
            String s = line.strip();
            if (s.equals("-- setup") || s.equals("-- writes")) {
                current = s.substring(3);
                out.put(current, "");
            } else if (current != null) {
                out.put(current, out.get(current) + line + "\n");
            }
        }
        return out;
    }

    @Test
    void theDocListsExactlyTheCaseFilesAndEachRowIsComplete() throws IOException {
        List<String[]> rows = docRows();
        Set<String> inDoc = new TreeSet<>();
        List<Executable> checks = new ArrayList<>();
        for (String[] row : rows) {
            String name = unquote(row[0]);
            assertTrue(inDoc.add(name), "case " + name + " has two rows in " + DOC);
            checks.add(() -> assertEquals(4, row.length, name + ": a row has four cells (case | verdict | object | how / why)"));
            checks.add(() -> assertTrue(name.matches("[a-z][a-z0-9_]{0,30}"), name + ": a case name is a-z0-9_, up to 31"));
            checks.add(() -> assertTrue(Set.of(CARRIED, REFUSED, ROLLED_BACK).contains(row[1]), name + ": verdict " + row[1]));
            checks.add(() -> assertEquals(!row[1].equals(CARRIED), !row[2].isEmpty(),
                    name + ": a refused or rolled back case names its object (schema.table), a carried one none"));
            checks.add(() -> assertFalse(row.length < 4 || row[3].isBlank(), name + ": says how or why"));
        }
        Set<String> files;
        try (Stream<Path> s = Files.list(CASES)) {
            files = s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".sql"))
                    .map(f -> f.substring(0, f.length() - 4)).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, inDoc, "every case file has a row in " + DOC + " and every row a file in " + CASES);
        for (Case c : cases()) {
            checks.add(() -> assertFalse(c.setup() == null || c.setup().isBlank(), c.name() + ": no -- setup section"));
            checks.add(() -> assertTrue(c.is(REFUSED) || c.writes() != null && !c.writes().isBlank(),
                    c.name() + ": a carried or rolled back case has a -- writes section"));
        }
        assertAll(checks);
    }

    // ---- refused cases: preflight names the object, nothing is created

    @TestFactory
    Stream<DynamicTest> refusedCasesAreRefusedInPreflightByNameChangingNothing() throws IOException {
        return cases().stream().filter(c -> c.is(REFUSED)).map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            String db = CARRIED_DB + "_" + c.name();
            freshDatabases(db);
            setup(db, c);
            JsonNode status = migrate(plan("cov_" + c.name(), db, List.of(c.name())));
            String error = status.path("error").asText();
            assertAll(c.name() + ": " + status,
                    () -> assertEquals("ROLLED_BACK", status.get("state").asText()),
                    () -> assertEquals(List.of("preflight", "done"), phases(status), "ended in preflight"),
                    () -> assertTrue(error.startsWith("preflight failed: preflight refused the migration"), error),
                    () -> assertTrue(error.lines().anyMatch(l -> l.contains(c.object())),
                            "the refusal names " + c.object() + ": " + error),
                    () -> assertEquals(0, status.get("compensations").size(), "nothing to undo"),
                    () -> assertEquals(List.of(), Leftovers.list(owner(sourceAdmin, db), owner(targetAdmin, db), connect)),
                    () -> assertEquals(List.of(), relations(admin(targetAdmin, db), List.of(c.name(), "public"), "true"),
                            "nothing created on the target"));
        }));
    }

    // ---- carried cases: one migration under writes, then a row-by-row comparison

    @Test
    void carriedCasesMigrateExactlyUnderWrites() throws Exception {
        List<Case> carried = cases().stream().filter(c -> c.is(CARRIED)).toList();
        List<Writer> writers = new ArrayList<>();
        JsonNode status = migrateUnderWrites("coverage", CARRIED_DB, carried, writers);
        assertEquals("COMPLETED", status.get("state").asText(), status.toString());
        assertAll(exactUnderWrites(status, carried, CARRIED_DB, writers));
    }

    /** After a completed migration: the writers, the tables row by row, the sequences, no leftovers. */
    static List<Executable> exactUnderWrites(JsonNode status, List<Case> cases, String db, List<Writer> writers)
            throws SQLException {
        long cutoverStarted = phaseStart(status, "cutover");
        for (Writer w : writers) {
            System.out.println(w.c.name() + ": " + w.committedBefore(cutoverStarted) + " rounds committed before the cutover, "
                    + (w.commits.size() - w.committedBefore(cutoverStarted)) + " after; failures by SQLSTATE "
                    + w.failures.stream().collect(Collectors.groupingBy(f -> String.valueOf(f.sqlState()), java.util.TreeMap::new, Collectors.counting())));
        }

        List<Executable> checks = new ArrayList<>();
        for (Writer w : writers) {
            String name = w.c.name();
            checks.add(() -> assertTrue(w.committedBefore(cutoverStarted) >= 10,
                    name + ": the writer committed only " + w.committedBefore(cutoverStarted) + " rounds before the cutover"));
            List<Writer.Failure> early = w.failures.stream().filter(f -> f.atMs() < cutoverStarted).toList();
            checks.add(() -> assertEquals(List.of(), early, name + ": statements failed before the cutover began"));
            long readOnlySince = w.failures.stream().filter(f -> "25006".equals(f.sqlState())).mapToLong(Writer.Failure::atMs)
                    .min().orElse(Long.MAX_VALUE);
            checks.add(() -> assertEquals(0, w.commits.stream().filter(t -> t > readOnlySince).count(),
                    name + ": rounds committed on the source after it was retired"));
            List<Writer.Failure> unexpected = w.failures.stream().filter(f -> !f.causedByTheSwitch()).toList();
            checks.add(() -> assertEquals(List.of(), unexpected, name + ": failures other than the switch's refusals"));
        }
        Endpoint source = admin(sourceAdmin, db);
        Endpoint target = admin(targetAdmin, db);
        List<String> schemas = cases.stream().map(Case::name).toList();
        List<String> tables = relations(source, schemas, "relkind IN ('r', 'p')");
        checks.add(() -> assertEquals(tables, relations(target, schemas, "relkind IN ('r', 'p')"), "the same tables on the target"));
        for (String t : tables) {
            checks.add(() -> {
                List<String> a = Compare.tableText(source, t);
                List<String> b = Compare.tableText(target, t);
                assertTrue(a.equals(b), t + " (" + a.size() + " rows on the source): " + Compare.diff(a, b));
            });
        }
        Map<String, Long> srcSeq = sequences(source, schemas);
        Map<String, Long> tgtSeq = sequences(target, schemas);
        for (Map.Entry<String, Long> s : srcSeq.entrySet()) {
            checks.add(() -> assertTrue(tgtSeq.containsKey(s.getKey()) && tgtSeq.get(s.getKey()) >= s.getValue(),
                    "sequence " + s.getKey() + " at " + s.getValue() + " on the source, " + tgtSeq.get(s.getKey()) + " on the target"));
        }
        checks.add(() -> assertEquals(List.of(), Leftovers.list(owner(sourceAdmin, db), owner(targetAdmin, db), connect),
                "dbmigrate's objects left"));
        return checks;
    }

    /**
     * The known gaps: preflight lets them through, and while they are written the migration either completes, then
     * exactly as a carried case, or rolls back naming the table, with no write refused (the fence is never set) and
     * nothing of dbmigrate left.
     */
    @Test
    void racyCasesCompleteExactlyOrRollBackByNameLosingNothing() throws Exception {
        List<Case> cases = cases().stream().filter(c -> c.is(ROLLED_BACK)).toList();
        Assumptions.assumeFalse(cases.isEmpty(), "no case is rolled back");
        String db = CARRIED_DB + "_rolled_back";
        List<Writer> writers = new ArrayList<>();
        JsonNode status = migrateUnderWrites("coverage_rb", db, cases, writers);
        if (status.get("state").asText().equals("COMPLETED")) {
            assertAll(exactUnderWrites(status, cases, db, writers));
            return;
        }
        String error = status.path("error").asText();
        List<Executable> checks = new ArrayList<>();
        checks.add(() -> assertEquals("ROLLED_BACK", status.get("state").asText(), status.toString()));
        for (Case c : cases) {
            checks.add(() -> assertTrue(error.contains(c.object()), c.name() + ": the error names " + c.object() + ": " + error));
        }
        for (Writer w : writers) {
            checks.add(() -> assertEquals(List.of(), w.failures, w.c.name() + ": the application's statements failed"));
            checks.add(() -> assertTrue(w.commits.size() >= 10, w.c.name() + ": the writer hardly wrote"));
        }
        checks.add(() -> assertEquals(List.of(), Leftovers.list(owner(sourceAdmin, db), owner(targetAdmin, db), connect),
                "dbmigrate's objects left"));
        checks.add(() -> assertEquals(List.of(), relations(admin(targetAdmin, db), cases.stream().map(Case::name).toList(), "true"),
                "the tables it created on the target are dropped"));
        assertAll(checks);
    }

    // ---- validate on demand (issue 18)

    /**
     * {@code ./dbmigrate validate ID} while a real migration (manual approval) waits for approval under its case's
     * writer: the live validation runs again and passes (exit 0), its report is the one status shows, and the
     * migration still waits; the abort then leaves nothing behind.
     */
    @Test
    void validateOnDemandWhileAwaitingApprovalPassesUnderWrites() throws Exception {
        Case c = cases().stream().filter(k -> k.name().equals("identity_serial")).findFirst().orElseThrow();
        String db = CARRIED_DB + "_validate";
        freshDatabases(db);
        setup(db, c);
        Writer writer = new Writer(c, owner(sourceAdmin, db));
        writer.start();
        MigrationPlan plan = plan("coverage_validate", db, List.of(c.name()), "manual");
        try {
            start(plan);
            JsonNode waiting = awaitState(plan, Set.of("AWAITING_APPROVAL"));
            assertEquals("AWAITING_APPROVAL", waiting.get("state").asText(), waiting.toString());

            StackIT.Result text = StackIT.printed("validate", plan.migrationId(), "--by", "it-operator", "--home", HOME.toString());
            assertEquals(0, text.exit(), text.out() + text.err());
            assertTrue(text.out().contains("validation requested by it-operator: PASSED"), text.out());
            assertTrue(text.out().contains("identity_serial."), "a line per table: " + text.out());

            StackIT.Result json = StackIT.printed("validate", plan.migrationId(), "--json", "--home", HOME.toString());
            assertEquals(0, json.exit(), json.out() + json.err());
            JsonNode report = StackIT.lastLineJson(json.out());
            JsonNode status = StackIT.lastLineJson(StackIT.cli("status", plan.migrationId(), "--json", "--home", HOME.toString()).out());
            assertAll(report.toString(),
                    () -> assertTrue(report.get("passed").asBoolean()),
                    () -> assertFalse(report.get("frozen").asBoolean(), "live"),
                    () -> assertTrue(report.get("rowsSource").asLong() > 0),
                    () -> assertEquals(2, report.get("tables").size(), "identity_serial has two tables"),
                    () -> assertEquals(report, status.get("validation"), "status shows the latest validation"),
                    () -> assertEquals("AWAITING_APPROVAL", status.get("state").asText()),
                    () -> assertEquals(List.of(), writer.failures, "the application went on writing"));
        } finally {
            StackIT.cli("abort", plan.migrationId(), "--reason", "test over", "--home", HOME.toString());
            writer.stop();
        }
        JsonNode end = awaitState(plan, ENDED);
        assertEquals("ROLLED_BACK", end.get("state").asText(), end.toString());
        assertEquals(List.of(), Leftovers.list(owner(sourceAdmin, db), owner(targetAdmin, db), connect), "dbmigrate's objects left");
    }

    // ---- helpers

    /** The cases' setup in a fresh {@code db}, then one migration of them all while a writer per case writes. */
    static JsonNode migrateUnderWrites(String id, String db, List<Case> cases, List<Writer> writers) throws Exception {
        freshDatabases(db);
        for (Case c : cases) {
            setup(db, c);
        }
        cases.forEach(c -> writers.add(new Writer(c, owner(sourceAdmin, db))));
        writers.forEach(Writer::start);
        try {
            Thread.sleep(1000); // the writers are at it before the migration starts
            return migrate(plan(id, db, cases.stream().map(Case::name).toList()));
        } finally {
            for (Writer w : writers) {
                w.stop();
            }
        }
    }

    /** Drops and creates {@code db} on both clusters, owned by the owner role. */
    static void freshDatabases(String db) throws SQLException {
        for (Endpoint a : List.of(sourceAdmin, targetAdmin)) {
            Pg.exec(a, "it-coverage", "DROP DATABASE IF EXISTS " + Sql.ident(db) + " WITH (FORCE)",
                    "CREATE DATABASE " + Sql.ident(db) + " OWNER " + OWNER);
        }
    }

    /** The case's setup as the owner role, in a schema named after the case. */
    static void setup(String db, Case c) throws SQLException {
        Pg.exec(owner(sourceAdmin, db), "it-coverage", "CREATE SCHEMA " + Sql.ident(c.name()));
        try (Connection conn = Pg.connect(owner(sourceAdmin, db), "it-coverage", Map.of("currentSchema", c.name()));
                Statement st = conn.createStatement()) {
            st.execute(c.setup());
        }
    }

    static Endpoint owner(Endpoint cluster, String db) {
        return new Endpoint(cluster.host(), cluster.port(), db, OWNER, ownerPasswordRef);
    }

    static Endpoint admin(Endpoint cluster, String db) {
        return new Endpoint(cluster.host(), cluster.port(), db, cluster.user(), cluster.passwordRef());
    }

    /** Auto-approved, the fence, no fallback window: the migration ends at the switch. */
    static MigrationPlan plan(String id, String db, List<String> schemas) {
        return plan(id, db, schemas, "auto");
    }

    static MigrationPlan plan(String id, String db, List<String> schemas, String approval) {
        return new MigrationPlan(id, owner(sourceAdmin, db), owner(targetAdmin, db), schemas, null, null, approval,
                new MigrationPlan.CutoverOptions(30, 5, MigrationPlan.CutoverOptions.FENCE, null, 0), null, null);
    }

    static final Set<String> ENDED = Set.of("COMPLETED", "ROLLED_BACK", "ROLLED_BACK_AFTER_CUTOVER", "FAILED");

    /** {@code start --plan}, then {@code status --json} until the migration ends; its last status. */
    static JsonNode migrate(MigrationPlan plan) throws Exception {
        start(plan);
        return awaitState(plan, ENDED);
    }

    static void start(MigrationPlan plan) throws IOException {
        Path file = HOME.resolve("coverage-plans/" + plan.migrationId() + ".json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writeValueAsString(plan));
        StackIT.Result started = StackIT.printed("start", "--plan", file.toString(), "--home", HOME.toString());
        assertEquals(0, started.exit(), started.out() + started.err());
    }

    /** {@code status --json} until the migration's state is one of {@code states} or it ended; its last status. */
    static JsonNode awaitState(MigrationPlan plan, Set<String> states) throws Exception {
        return awaitState(HOME, plan.migrationId(), states);
    }

    /** The same for migration {@code id} of the stack in {@code home}. */
    static JsonNode awaitState(Path home, String id, Set<String> states) throws Exception {
        long deadline = System.nanoTime() + 6L * 60 * 1_000_000_000L;
        String last = "";
        while (true) {
            StackIT.Result r = StackIT.cli("status", id, "--json", "--home", home.toString());
            if (r.exit() == 0) {
                JsonNode s = StackIT.lastLineJson(r.out());
                String now = s.get("state").asText() + " " + s.get("phase").asText();
                if (!now.equals(last)) {
                    System.out.println(id + ": " + now);
                    last = now;
                }
                if (states.contains(s.get("state").asText()) || ENDED.contains(s.get("state").asText())) {
                    return s;
                }
            }
            assertTrue(System.nanoTime() < deadline, id + " did not end within 6 minutes: " + r.out() + r.err());
            Thread.sleep(500);
        }
    }

    static List<String> phases(JsonNode status) {
        List<String> out = new ArrayList<>();
        status.get("timings").forEach(t -> out.add(t.get("phase").asText()));
        return out;
    }

    static long phaseStart(JsonNode status, String phase) {
        for (JsonNode t : status.get("timings")) {
            if (t.get("phase").asText().equals(phase)) {
                return t.get("startedAtMs").asLong();
            }
        }
        throw new AssertionError("no " + phase + " in " + status.get("timings"));
    }

    /** Quoted names of the relations of these schemas that match {@code where}, sorted. */
    static List<String> relations(Endpoint e, List<String> schemas, String where) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = Pg.connect(e, "it-coverage"); PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE n.nspname = ANY (?) AND " + where + " ORDER BY 1, 2")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Sql.table(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return out;
    }

    /** Each sequence's last value (a sequence never used: absent). */
    static Map<String, Long> sequences(Endpoint e, List<String> schemas) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = Pg.connect(e, "it-coverage"); PreparedStatement ps = c.prepareStatement(
                "SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE schemaname = ANY (?) AND last_value IS NOT NULL")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(Sql.table(rs.getString(1), rs.getString(2)), rs.getLong(3));
                }
            }
        }
        return out;
    }

    /**
     * The application of one case: its {@code -- writes} in one transaction per round, about ten rounds a second, as
     * the owner role; every failure is kept with its time. A failed round is tried again with the same number.
     */
    static final class Writer implements Runnable {
        record Failure(long atMs, String sqlState, String message) {
            /**
             * The fence's refusal during the pause, and after the switch the retired source's: read-only for new
             * sessions, and the sessions still open ended (the writer reconnects).
             */
            boolean causedByTheSwitch() {
                return Fence.SQLSTATE.equals(sqlState) && message.contains("dbmigrate is switching this database over")
                        || "25006".equals(sqlState) || "57P01".equals(sqlState)
                        || sqlState != null && sqlState.startsWith("08");
            }
        }

        final Case c;
        final Endpoint db;
        final List<Failure> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        /** Commit times of the rounds, in order. */
        final List<Long> commits = java.util.Collections.synchronizedList(new ArrayList<>());
        private volatile boolean running = true;
        private Thread thread;

        Writer(Case c, Endpoint db) {
            this.c = c;
            this.db = db;
        }

        void start() {
            thread = new Thread(this, "coverage-writer-" + c.name());
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(30_000);
        }

        long committedBefore(long ms) {
            synchronized (commits) {
                return commits.stream().filter(t -> t < ms).count();
            }
        }

        /** Rounds on one connection until a statement fails; then a new connection (the retired source ends sessions). */
        @Override
        public void run() {
            long round = 0;
            while (running) {
                try (Connection conn = Pg.connect(db, "coverage-writer", Map.of("currentSchema", c.name()));
                        PreparedStatement number = conn.prepareStatement("SELECT set_config('coverage.i', ?, true)");
                        Statement st = conn.createStatement()) {
                    conn.setAutoCommit(false);
                    while (running) {
                        number.setString(1, Long.toString(round));
                        number.execute();
                        st.execute(c.writes());
                        conn.commit();
                        commits.add(System.currentTimeMillis());
                        round++;
                        Thread.sleep(100);
                    }
                } catch (SQLException e) {
                    failures.add(new Failure(System.currentTimeMillis(), e.getSQLState(), e.getMessage()));
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
