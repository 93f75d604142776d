package io.dbmigrate.activities.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class DatabasesFragmentTest {
    private static final String TARGET = DatabasesFragment.entryValue("10.0.0.2", 5433, "shop");

    @Test
    void replacesTheEntryInPlaceAndKeepsEveryOtherLine() {
        String before = "; managed by ops\n[databases]\n* = host=127.0.0.1 port=5432\nshop = host=10.0.0.1 port=5432 dbname=shop\n"
                + "other = host=10.0.0.9\n";
        assertEquals("; managed by ops\n[databases]\n* = host=127.0.0.1 port=5432\nshop = host=10.0.0.2 port=5433 dbname=shop\n"
                + "other = host=10.0.0.9\n", DatabasesFragment.withEntry(before, "shop", TARGET));
    }

    @Test
    void addsAMissingEntryAfterTheSectionsLastEntryNotIntoTheNextSection() {
        String before = "[databases]\n* = host=127.0.0.1 port=5432\n\n; trailing comment\n[users]\nbob = pool_mode=session\n";
        assertEquals("[databases]\n* = host=127.0.0.1 port=5432\nshop = host=10.0.0.2 port=5433 dbname=shop\n\n; trailing comment\n"
                + "[users]\nbob = pool_mode=session\n", DatabasesFragment.withEntry(before, "shop", TARGET));
    }

    @Test
    void matchesTheExactNameOnlyQuotedOrNotAndDropsADuplicate() {
        String before = "[databases]\nshop2 = host=a\n\"shop\" = host=a\nshop=host=b\n";
        assertEquals("[databases]\nshop2 = host=a\nshop = host=10.0.0.2 port=5433 dbname=shop\n",
                DatabasesFragment.withEntry(before, "shop", TARGET));
    }

    @Test
    void isIdempotent() {
        String once = DatabasesFragment.withEntry("[databases]\n* = host=127.0.0.1\n", "shop", TARGET);
        assertEquals(once, DatabasesFragment.withEntry(once, "shop", TARGET));
    }

    @Test
    void anEmptyFileGetsASectionAndAFileWithoutHeaderIsRefused() {
        assertEquals("[databases]\nshop = " + TARGET + "\n", DatabasesFragment.withEntry("", "shop", TARGET));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatabasesFragment.withEntry("shop = host=a\n", "shop", TARGET));
        assertTrue(e.getMessage().contains("no [databases] section"), e.getMessage());
    }

    @Test
    void hostileNamesAndValuesAreRefused() {
        for (String bad : new String[] {"shop; KILL", "a b", "x\ny", "", "\"q\"", "sh=op"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DatabasesFragment.withEntry("[databases]\n", bad, TARGET));
            assertTrue(e.getMessage().startsWith("PgBouncer: the database name"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> DatabasesFragment.entryValue("h port=1", 5432, "shop"));
        assertThrows(IllegalArgumentException.class, () -> DatabasesFragment.entryValue("h", 5432, "shop dbname=x"));
        assertThrows(IllegalArgumentException.class, () -> DatabasesFragment.entryValue("h", 0, "shop"));
    }

    @Test
    void scramProofMatchesRfc7677() throws Exception {
        // RFC 7677 section 3's example exchange (user "user", password "pencil"), with the user name left out as
        // PostgreSQL's clients do: the proof depends on the client-first-bare message, so recompute the expectation.
        AdminConsole.Scram s = new AdminConsole.Scram("pencil", "rOprNGfwEbeRWgbNEkqO");
        assertEquals("n,,n=,r=rOprNGfwEbeRWgbNEkqO", s.clientFirst());
        String serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        String fin = s.clientFinal(serverFirst);
        assertTrue(fin.startsWith("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="), fin);
        assertEquals(32, Base64.getDecoder().decode(fin.substring(fin.indexOf(",p=") + 3)).length);
        assertThrows(java.io.IOException.class, () -> s.verifyServerFinal("v="
                + Base64.getEncoder().encodeToString("wrong".getBytes(StandardCharsets.UTF_8))));
    }
}
