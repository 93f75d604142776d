package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LsnTest {

    @Test
    void formatsAndParses() {
        assertEquals(0x16B374D848L, Lsn.parse("16/B374D848"));
        assertEquals("16/B374D848", Lsn.format(0x16B374D848L));
        assertEquals("0/21BE8D8", Lsn.format(35383512L));
        assertEquals(35383512L, Lsn.parse("0/21BE8D8"));
        assertEquals("0/0", Lsn.format(0));
    }

    @Test
    void lowercaseParsesToo() {
        assertEquals(0x16B374D848L, Lsn.parse("16/b374d848"));
    }

    @Test
    void roundTrips() {
        for (long lsn : new long[] {0, 1, 0xFFFFFFFFL, 0x1_0000_0000L, 0x16B374D848L, Long.MAX_VALUE, -1L}) {
            assertEquals(lsn, Lsn.parse(Lsn.format(lsn)), Lsn.format(lsn));
        }
        assertEquals("FFFFFFFF/FFFFFFFF", Lsn.format(-1L));
        assertEquals("16/B374D848", Lsn.format(Lsn.parse("16/B374D848")));
    }
}
