package io.dbmigrate.workflows.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PlanValidatorTest {

    /** A mutable copy of a plan's fields, so each case changes exactly one thing of a valid plan. */
    private static final class P {
        String migrationId = "orders_2024";
        Endpoint source = new Endpoint("source.db.internal", 5432, "shop", "migrator", "env:SOURCE_PASSWORD");
        Endpoint target = new Endpoint("target.db.internal", 5432, "shop", "migrator", "file:/run/secrets/target");
        List<String> schemas = List.of("public");
        List<String> tables = List.of("public.orders");
        MigrationPlan.Thresholds thresholds = new MigrationPlan.Thresholds(5.0, 1024L, 1000);
        String approval = "manual";
        MigrationPlan.CutoverOptions cutover = new MigrationPlan.CutoverOptions(30, 5);
        String faultInjection = null;
        MigrationPlan.Limits limits = null;
        Map<String, Object> unknown = new LinkedHashMap<>();

        MigrationPlan build() {
            return new MigrationPlan(migrationId, source, target, schemas, tables, thresholds, approval, cutover,
                    faultInjection, null, limits, unknown);
        }
    }

    private static Endpoint endpoint(String host, int port, String database, String user, String passwordRef) {
        return new Endpoint(host, port, database, user, passwordRef);
    }

    private static Arguments rule(String field, UnaryOperator<P> change) {
        return Arguments.of(field, change);
    }

    static Stream<Arguments> rules() {
        Endpoint ok = new P().source;
        return Stream.of(
                rule("unknown field 'xyz'", p -> { p.unknown.put("xyz", 1); return p; }),
                rule("missing field 'migrationId'", p -> { p.migrationId = null; return p; }),
                rule("field 'migrationId'", p -> { p.migrationId = "Orders-2024"; return p; }),
                rule("field 'migrationId'", p -> { p.migrationId = "a".repeat(41); return p; }),
                rule("missing field 'source'", p -> { p.source = null; return p; }),
                rule("missing field 'target'", p -> { p.target = null; return p; }),
                rule("missing field 'source.host'", p -> {
                    p.source = endpoint(" ", ok.port(), ok.database(), ok.user(), ok.passwordRef()); return p; }),
                rule("field 'source.port'", p -> {
                    p.source = endpoint(ok.host(), 0, ok.database(), ok.user(), ok.passwordRef()); return p; }),
                rule("field 'target.port'", p -> {
                    p.target = endpoint(ok.host(), 65536, ok.database(), ok.user(), ok.passwordRef()); return p; }),
                rule("missing field 'target.database'", p -> {
                    p.target = endpoint(ok.host(), ok.port(), null, ok.user(), ok.passwordRef()); return p; }),
                rule("missing field 'source.user'", p -> {
                    p.source = endpoint(ok.host(), ok.port(), ok.database(), "", ok.passwordRef()); return p; }),
                rule("missing field 'source.passwordRef'", p -> {
                    p.source = endpoint(ok.host(), ok.port(), ok.database(), ok.user(), null); return p; }),
                rule("field 'target.passwordRef'", p -> {
                    p.target = endpoint(ok.host(), ok.port(), ok.database(), ok.user(), "hunter2"); return p; }),
                rule("missing field 'approval'", p -> { p.approval = null; return p; }),
                rule("field 'approval'", p -> { p.approval = "yes"; return p; }),
                rule("field 'schemas[1]'", p -> { p.schemas = Arrays.asList("public", ""); return p; }),
                rule("field 'tables[0]'", p -> { p.tables = List.of("orders"); return p; }),
                rule("field 'thresholds.maxLagSeconds'", p -> {
                    p.thresholds = new MigrationPlan.Thresholds(0.0, null, null); return p; }),
                rule("field 'thresholds.maxLagBytes'", p -> {
                    p.thresholds = new MigrationPlan.Thresholds(null, -1L, null); return p; }),
                rule("field 'thresholds.validationChunkRows'", p -> {
                    p.thresholds = new MigrationPlan.Thresholds(null, null, 99); return p; }),
                rule("field 'thresholds.validationChunkRows'", p -> {
                    p.thresholds = new MigrationPlan.Thresholds(null, null, 10_000_001); return p; }),
                rule("field 'cutover.maxWritePauseSeconds'", p -> {
                    p.cutover = new MigrationPlan.CutoverOptions(0, null); return p; }),
                rule("field 'cutover.maxWritePauseSeconds'", p -> {
                    p.cutover = new MigrationPlan.CutoverOptions(601, null); return p; }),
                rule("field 'cutover.lockTimeoutSeconds'", p -> {
                    p.cutover = new MigrationPlan.CutoverOptions(null, 61); return p; }),
                rule("field 'limits.maxRecordBytes'", p -> { p.limits = new MigrationPlan.Limits(65_535L); return p; }),
                rule("field 'limits.maxRecordBytes'", p -> {
                    p.limits = new MigrationPlan.Limits((1L << 30) + 1); return p; }),
                rule("field 'faultInjection'", p -> { p.faultInjection = "approval"; return p; }));
    }

    @Test
    void aValidPlanHasNoProblems() {
        assertEquals(List.of(), PlanValidator.problems(new P().build()));
        P minimal = new P();
        minimal.schemas = null;
        minimal.tables = null;
        minimal.thresholds = null;
        minimal.cutover = null;
        minimal.approval = "auto";
        assertEquals(List.of(), PlanValidator.problems(minimal.build()));
        P limited = new P();
        limited.limits = new MigrationPlan.Limits(256L * 1024);
        assertEquals(List.of(), PlanValidator.problems(limited.build()));
        for (String phase : PlanValidator.PHASES) {
            P rehearsal = new P();
            rehearsal.faultInjection = phase;
            assertEquals(List.of(), PlanValidator.problems(rehearsal.build()), phase);
        }
    }

    @Test
    void anEmptyPlanIsOneProblem() {
        assertEquals(List.of("the plan is empty"), PlanValidator.problems(null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void eachRuleNamesItsField(String expected, UnaryOperator<P> change) {
        List<String> problems = PlanValidator.problems(change.apply(new P()).build());
        assertEquals(1, problems.size(), () -> "one problem expected: " + problems);
        assertTrue(problems.get(0).startsWith(expected), () -> "expected '" + expected + "...': " + problems);
    }

    @Test
    void aPasswordInPlaceOfItsReferenceIsNeverEchoed() {
        P p = new P();
        p.source = endpoint("h", 5432, "d", "u", "s3cr3t-Passw0rd");
        List<String> problems = PlanValidator.problems(p.build());
        assertEquals(1, problems.size());
        assertFalse(problems.get(0).contains("s3cr3t"), problems.get(0));
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        P p = new P();
        p.unknown.put("xyz", true);
        p.source = null;
        p.approval = null;
        p.faultInjection = "everything";
        List<String> problems = PlanValidator.problems(p.build());
        assertEquals(4, problems.size(), problems::toString);
        List<String> fields = new ArrayList<>();
        for (String f : List.of("'xyz'", "'source'", "'approval'", "'faultInjection'")) {
            problems.stream().filter(x -> x.contains(f)).findFirst().ifPresent(fields::add);
        }
        assertEquals(problems, fields, "in the order the plan's fields are checked");
    }

    @Test
    void jacksonKeepsUnknownFieldsForTheValidator() throws Exception {
        String json = """
                {"migrationId": "orders_2024",
                 "source": {"host": "source.db.internal", "port": 5432, "database": "shop", "user": "migrator",
                            "passwordRef": "env:SOURCE_PASSWORD"},
                 "target": {"host": "target.db.internal", "port": 5432, "database": "shop", "user": "migrator",
                            "passwordRef": "env:TARGET_PASSWORD"},
                 "approval": "auto",
                 "xyz": {"nested": [1, 2]}}
                """;
        ObjectMapper mapper = new ObjectMapper();
        MigrationPlan plan = mapper.readValue(json, MigrationPlan.class);

        assertEquals(List.of("xyz"), List.copyOf(plan.unknownFields().keySet()));
        assertEquals("orders_2024", plan.migrationId());
        assertEquals(5432, plan.source().port());
        assertEquals(List.of("unknown field 'xyz'"), PlanValidator.problems(plan));

        // written back (as the Temporal client does with its own Jackson mapper), the field stays where it was
        String written = mapper.writeValueAsString(plan);
        assertFalse(written.contains("unknownFields"), written);
        MigrationPlan again = mapper.readValue(written, MigrationPlan.class);
        assertEquals(plan, again);
        assertEquals(List.of("unknown field 'xyz'"), PlanValidator.problems(again));
    }

    @Test
    void aCleanPlanSurvivesAJsonRoundTripWithoutInventedFields() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        MigrationPlan plan = new P().build();
        MigrationPlan again = mapper.readValue(mapper.writeValueAsString(plan), MigrationPlan.class);
        assertEquals(plan, again);
        assertEquals(List.of(), PlanValidator.problems(again));
    }
}
