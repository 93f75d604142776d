package io.dbmigrate.activities.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeyRangeTest {
    @Test
    void keysCompareAsPostgresqlCompareTheirTextCollateC() {
        // U+E000 is below U+1F600 in UTF-8 bytes (PostgreSQL's order) but above its surrogate pair in UTF-16 (Java's)
        assertTrue("\uE000".compareTo("\uD83D\uDE00") > 0, "Java's String order differs here");
        assertTrue(KeyRange.compareKeys(List.of("\uE000"), List.of("\uD83D\uDE00")) < 0);
        // a prefix first; bytes unsigned ('é' above 'z'); uppercase before lowercase
        assertTrue(KeyRange.compareKeys(List.of("ab"), List.of("abc")) < 0);
        assertTrue(KeyRange.compareKeys(List.of("z"), List.of("é")) < 0);
        assertTrue(KeyRange.compareKeys(List.of("Z"), List.of("a")) < 0);
        // column by column
        assertTrue(KeyRange.compareKeys(List.of("1", "b"), List.of("1", "a")) > 0);
        assertTrue(KeyRange.compareKeys(List.of("1", "b"), List.of("2", "a")) < 0);
        assertEquals(0, KeyRange.compareKeys(List.of("x", "y"), List.of("x", "y")));
    }

    @Test
    void chunksBetweenBoundsCoverEverything() {
        List<KeyRange> chunks = KeyRange.between(List.of(List.of("10"), List.of("20")));
        assertEquals(List.of(new KeyRange(null, List.of("10")), new KeyRange(List.of("10"), List.of("20")),
                new KeyRange(List.of("20"), null)), chunks);
        assertEquals(List.of(KeyRange.ALL), KeyRange.between(List.of()));
    }
}
