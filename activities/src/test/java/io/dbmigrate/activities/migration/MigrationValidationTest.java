package io.dbmigrate.activities.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ApplyDataException;
import io.dbmigrate.activities.validation.Difference;
import io.dbmigrate.activities.validation.Difference.Kind;
import io.dbmigrate.activities.validation.TableReport;
import io.dbmigrate.workflows.model.TableValidation;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationValidationTest {
    private static TableReport report(boolean keyless, String unsettled, Difference... ds) {
        long m = List.of(ds).stream().filter(d -> d.kind() == Kind.MISSING).count();
        long e = List.of(ds).stream().filter(d -> d.kind() == Kind.EXTRA).count();
        long d = List.of(ds).stream().filter(x -> x.kind() == Kind.DIFFERENT).count();
        return new TableReport("public.orders", keyless, 100, 100, 3, 1, m, e, d, List.of(ds), false, 0.1, null, unsettled);
    }

    @Test
    void keysReachHistoryAsTheApplyErrorsHashThemWhenValuesAreRedacted() {
        TableReport r = report(false, null, new Difference(Kind.MISSING, List.of("42", "eu"), null),
                new Difference(Kind.DIFFERENT, List.of("7", "us"), null));
        TableValidation t = MigrationValidation.toWorkflow(r, true, List.of("id", "region"));
        assertEquals(List.of("missing " + ApplyDataException.keyRef("public.orders", "(id=42, region=eu)"),
                "different " + ApplyDataException.keyRef("public.orders", "(id=7, region=us)")), t.mismatchedChunks());
        assertEquals(1L, t.missingRows());
        assertEquals(0L, t.extraRows());
        assertEquals(1L, t.differentRows());
        assertFalse(t.matches());
        assertFalse(t.toString().contains("42"), t.toString());

        TableValidation plain = MigrationValidation.toWorkflow(r, false, null);
        assertEquals(List.of("missing key (42,eu)", "different key (7,us)"), plain.mismatchedChunks());
    }

    @Test
    void countsDecideNotTheRowFiguresReadAtDifferentMoments() {
        TableReport equal = new TableReport("public.orders", false, 100, 103, 3, 1, 0, 0, 0, List.of(), false, 0.1, null, null);
        assertTrue(MigrationValidation.toWorkflow(equal, true, null).matches());
    }

    @Test
    void aKeylessRowIsNamedByItsHashAndAnUnsettledTableIsLeftToTheFreeze() {
        Difference d = new Difference(Kind.EXTRA, List.of("-123"), "row hash: source 1, target 2");
        TableValidation t = MigrationValidation.toWorkflow(report(true, null, d), true, null);
        assertEquals(List.of("extra row hash -123 (row hash: source 1, target 2)"), t.mismatchedChunks());
        TableValidation moving = MigrationValidation.toWorkflow(report(true, "written during each of 3 whole re-checks", d), true, null);
        assertTrue(moving.matches());
        assertEquals(List.of(), moving.mismatchedChunks());
    }

    @Test
    void aTableThatCouldNotBeComparedIsNoProof() {
        TableReport failed = new TableReport("public.orders", false, 0, 0, 0, 0, 0, 0, 0, List.of(), false, 0.1,
                "columns differ: qty", null);
        assertFalse(MigrationValidation.toWorkflow(failed, true, null).matches());
    }
}
