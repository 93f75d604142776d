package io.dbmigrate.activities.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ApplyDataException;
import io.dbmigrate.activities.pipeline.ChangeEvent;
import io.dbmigrate.workflows.model.TableRef;
import io.temporal.api.failure.v1.Failure;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** What an apply data error puts in the workflow's history, with the plan's redactValues on (default) and off. */
class ApplyDataFailureTest {
    static final ChangeEvent INSERT = new ChangeEvent(ChangeEvent.Kind.INSERT, 17, "tx9", new TableRef("public", "patients"),
            null, Map.of("id", "424242", "ssn", "078-05-1120"), 0x16B3748L, 0, false, 0);

    /** As PostgreSQL sends it: primary message, DETAIL with the row, the constraint's name. */
    static PSQLException checkViolation() {
        return new PSQLException(new ServerErrorMessage("SERROR\0VERROR\0C23514\0Mnew row for relation \"patients\" violates "
                + "check constraint \"ssn_format\"\0DFailing row contains (424242, 078-05-1120).\0spublic\0tpatients\0"
                + "nssn_format\0"));
    }

    /** The failure as the workflow (and history) receives it: converted the way the SDK does. */
    static String inHistory(ApplicationFailure f) {
        Failure proto = DefaultDataConverter.newDefaultInstance().exceptionToFailure(f);
        return proto.toString() + f.getDetails().get(1, String.class);
    }

    @Test
    void redactedFailureNamesTheTableAndConstraintButNoValue() {
        ApplyDataException e = new ApplyDataException(INSERT, "(id=424242)", "SQLSTATE 23514: " + checkViolation().getMessage(),
                checkViolation());
        assertTrue(e.getMessage().contains("078-05-1120"), "the worker's log keeps the full text: " + e.getMessage());

        ApplicationFailure f = PipelineActivitiesImpl.applyDataFailure(e, true);
        String history = inHistory(f);
        assertFalse(history.contains("424242"), history);
        assertFalse(history.contains("078-05-1120"), history);
        assertFalse(history.contains("Failing row"), history);
        assertTrue(f.getOriginalMessage().contains("cannot apply insert on public.patients key key#"), f.getOriginalMessage());
        assertTrue(f.getOriginalMessage().contains("SQLSTATE 23514: new row for relation \"patients\" violates check constraint"
                + " \"ssn_format\""), f.getOriginalMessage());
        assertEquals("ApplyDataError", f.getType());
        assertTrue(f.isNonRetryable());
        assertEquals(e.key(true), f.getDetails().get(1, String.class));
        assertEquals(e.key(true), new ApplyDataException(INSERT, "(id=424242)", "other", null).key(true), "a stable hash");
    }

    @Test
    void withRedactValuesFalseTheKeyAndRowDetailReachHistory() {
        ApplyDataException e = new ApplyDataException(INSERT, "(id=424242)", "SQLSTATE 23514: " + checkViolation().getMessage(),
                checkViolation());
        String history = inHistory(PipelineActivitiesImpl.applyDataFailure(e, false));
        assertTrue(history.contains("(id=424242)"), history);
        assertTrue(history.contains("Failing row contains (424242, 078-05-1120)"), history);
    }

    @Test
    void dataExceptionsLoseTheirQuotedValueAndRaisesTheirText() {
        PSQLException bad = new PSQLException(new ServerErrorMessage(
                "SERROR\0C22P02\0Minvalid input syntax for type integer: \"078-05-1120\"\0"));
        String m = new ApplyDataException(INSERT, "(id=1)", "SQLSTATE 22P02: " + bad.getMessage(), bad).message(true);
        assertFalse(m.contains("078-05-1120"), m);
        assertTrue(m.contains("invalid input syntax for type integer: \"…\""), m);

        PSQLException raised = new PSQLException(new ServerErrorMessage("SERROR\0CP0001\0Mpatient 078-05-1120 refused\0"));
        m = new ApplyDataException(INSERT, "(id=1)", "SQLSTATE P0001: " + raised.getMessage(), raised).message(true);
        assertFalse(m.contains("078-05-1120"), m);
        assertTrue(m.contains("SQLSTATE P0001"), m);
    }
}
