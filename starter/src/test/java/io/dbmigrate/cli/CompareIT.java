package io.dbmigrate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.validation.TwoClusters;
import io.dbmigrate.workflows.model.Endpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code ./dbmigrate compare} on two databases with no migration: its JSON, its HTML page, its exit codes. */
class CompareIT {
    static final String DB = "dbmigrate_compare_it";
    static Endpoint src;
    static Endpoint tgt;

    @BeforeAll
    static void data() throws Exception {
        TwoClusters.get();
        TwoClusters.freshDatabases(DB, "");
        src = TwoClusters.source(DB);
        tgt = TwoClusters.target(DB);
        for (Endpoint e : new Endpoint[] {src, tgt}) {
            TwoClusters.exec(e, "CREATE SCHEMA shop", "CREATE TABLE shop.orders (id bigint PRIMARY KEY, note text)",
                    "INSERT INTO shop.orders SELECT g, 'order ' || g FROM generate_series(1, 5000) g",
                    "CREATE TABLE same (k text PRIMARY KEY)", "INSERT INTO same VALUES ('a'), ('b')",
                    "CREATE TABLE log (line text)", "INSERT INTO log VALUES ('x'), ('x'), ('y')");
        }
        TwoClusters.exec(tgt, "DELETE FROM shop.orders WHERE id = 77", "UPDATE shop.orders SET note = '<b>changed</b>' WHERE id = 4000",
                "INSERT INTO shop.orders VALUES (9999, 'extra')", "DELETE FROM log WHERE line = 'y'");
    }

    static String url(Endpoint e) {
        return "postgresql://" + e.user() + "@" + e.host() + ":" + e.port() + "/" + e.database();
    }

    static StackIT.Result compare(String... more) {
        return StackIT.printed(StackIT.with(new String[] {"compare", "--source", url(src), "--target", url(tgt),
                "--source-password", src.passwordRef(), "--target-password", tgt.passwordRef(), "--chunk-rows", "1000"}, more));
    }

    @Test
    void everyTableIsComparedAndTheDifferencesAreReported() throws Exception {
        Path html = Files.createTempFile("compare", ".html");
        StackIT.Result r = compare("--json", "--html", html.toString());
        assertEquals(1, r.exit(), "differences: exit code 1; " + r.err());
        assertEquals(1, r.out().strip().lines().count(), "with --json stdout holds only the report");
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertFalse(report.get("equal").asBoolean());
        assertEquals(3, report.get("tables").size(), "every table of the source: " + report);
        JsonNode orders = null;
        for (JsonNode t : report.get("tables")) {
            switch (t.get("table").asText()) {
                case "shop.orders" -> orders = t;
                case "public.same" -> assertTrue(t.get("missing").asLong() + t.get("extra").asLong() + t.get("different").asLong() == 0, t.toString());
                case "public.log" -> {
                    assertTrue(t.get("keyless").asBoolean());
                    assertEquals(1, t.get("missing").asLong(), t.toString());
                }
                default -> throw new AssertionError("unexpected table " + t);
            }
        }
        assertEquals(1, orders.get("missing").asLong());
        assertEquals(1, orders.get("extra").asLong());
        assertEquals(1, orders.get("different").asLong());
        assertTrue(orders.get("chunks").asInt() > 1, orders.toString());
        String page = Files.readString(html);
        assertTrue(page.contains("shop.orders") && page.contains("<code>77</code>") && page.contains("<code>9999</code>")
                && page.contains("<code>4000</code>"), page);
        assertFalse(page.contains("<b>changed</b>"), "values are not shown, keys are escaped");
        assertFalse(page.contains("<script") || page.contains("<link"), "self-contained");
    }

    @Test
    void equalTablesExitZero() {
        StackIT.Result r = compare("--tables", "public.same,shop.orders");
        assertEquals(1, r.exit(), r.out());
        StackIT.Result same = compare("--tables", "same");
        assertEquals(0, same.exit(), same.out() + same.err());
        assertTrue(same.out().contains("EQUAL"), same.out());
    }

    @Test
    void aPasswordInTheUrlIsRefused() {
        StackIT.Result r = StackIT.cli("compare", "--source", "postgresql://postgres:secret@127.0.0.1:5432/x", "--target", url(tgt));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("give it by reference"), r.err());
        assertFalse(r.err().contains("secret"), "the password is not echoed: " + r.err());
    }
}
