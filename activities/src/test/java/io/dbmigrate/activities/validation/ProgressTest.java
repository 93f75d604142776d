package io.dbmigrate.activities.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void progressSurvivesItsJson() throws Exception {
        Progress.InMemory p = new Progress.InMemory();
        p.planned("public.t", List.of(List.of("10"), List.of("20")));
        p.passed("public.t", true, new Progress.Pass(List.of(0L, 100L), Set.of(1), Map.of(0, new Sum(3, "-42"))));
        p.finished("public.t", new ChunkVerdict(2, 5, 4, 1, 0, 0, List.of(new Difference(Difference.Kind.MISSING, List.of("25"), null))));
        ObjectMapper json = new ObjectMapper();
        Progress.InMemory back = json.readValue(json.writeValueAsString(p), Progress.InMemory.class);
        assertEquals(p.bounds("public.t"), back.bounds("public.t"));
        assertEquals(p.pass("public.t", true), back.pass("public.t", true));
        assertTrue(back.pass("public.t", false).isEmpty());
        assertEquals(p.finished("public.t"), back.finished("public.t"));
    }

    @Test
    void aReportedTableKeepsOnlyItsReportAndWhichBlockRangesWereRead() throws Exception {
        Progress.InMemory p = new Progress.InMemory();
        p.planned("public.t", List.of(List.of("10")));
        p.passed("public.t", true, new Progress.Pass(List.of(0L, 100L), Set.of(0, 1), Map.of(0, new Sum(3, "-42"))));
        p.passed("public.t", false, new Progress.Pass(List.of(0L), Set.of(0), Map.of(0, new Sum(3, "-42"))));
        p.passed("public.u", true, new Progress.Pass(List.of(0L, 100L), Set.of(1), Map.of(0, new Sum(1, "7"))));
        p.finished("public.t", new ChunkVerdict(0, 5, 5, 0, 0, 0, List.of()));
        TableReport r = new TableReport("public.t", false, 5, 5, 2, 0, 0, 0, 0, List.of(), false, 0.1, null, null);
        p.reported(r);
        assertEquals(r, p.report("public.t").orElseThrow());
        assertTrue(p.bounds("public.t").isEmpty());
        assertTrue(p.finished("public.t").isEmpty());
        assertEquals(Map.of(), p.pass("public.t", true).orElseThrow().sums(), "no sums kept for a finished table");
        // a retry after a worker death counts the finished table's ranges among those it did not read again
        ObjectMapper json = new ObjectMapper();
        assertEquals(4, json.readValue(json.writeValueAsString(p), Progress.InMemory.class).blockRangesDone());
    }

    @Test
    void aPassByKeyRangesKeepsItsWayThroughJsonAndAnOlderPassReadsAsBlockRanges() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Progress.Pass byKey = new Progress.Pass(List.of(0L, 1L, 34L), Set.of(1), Map.of(1, new Sum(2, "5")), true);
        Progress.Pass back = json.readValue(json.writeValueAsString(byKey), Progress.Pass.class);
        assertEquals(byKey, back);
        assertTrue(back.keyRanges());
        // recorded before passes had a way: block ranges
        Progress.Pass older = json.readValue("{\"sliceStarts\":[0,100],\"done\":[0],\"sums\":{}}", Progress.Pass.class);
        assertFalse(older.keyRanges());
        assertEquals(List.of(0L, 100L), older.sliceStarts());
    }

    @Test
    void sumsAddBeyondSixtyFourBits() {
        assertEquals(new Sum(3, "18446744073709551614"), new Sum(1, "9223372036854775807").plus(new Sum(2, "9223372036854775807")));
    }
}
