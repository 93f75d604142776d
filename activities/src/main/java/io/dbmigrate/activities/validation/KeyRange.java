package io.dbmigrate.activities.validation;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Keys in {@code [lo, hi)} in byte order, each bound a primary key in text form; null is unbounded. Chunk {@code i}
 * of bounds {@code b} is {@code [b[i-1], b[i])}: the keys with {@code i} bounds at or below them, as
 * {@code width_bucket} counts.
 */
record KeyRange(List<String> lo, List<String> hi) {
    static final KeyRange ALL = new KeyRange(null, null);

    String describe() {
        return "[" + (lo == null ? "-inf" : String.join(",", lo)) + " .. " + (hi == null ? "+inf" : String.join(",", hi)) + ")";
    }

    /** Chunks between consecutive bounds, the first and last open. */
    static List<KeyRange> between(List<List<String>> bounds) {
        List<KeyRange> out = new java.util.ArrayList<>();
        List<String> lo = null;
        for (List<String> b : bounds) {
            out.add(new KeyRange(lo, b));
            lo = b;
        }
        out.add(new KeyRange(lo, null));
        return out;
    }

    /**
     * The order of {@link TableSql#rangeRows}: column by column, the texts' UTF-8 bytes unsigned, a prefix first
     * (PostgreSQL's {@code COLLATE "C"} is memcmp, then length).
     */
    static int compareKeys(List<String> a, List<String> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = Arrays.compareUnsigned(a.get(i).getBytes(StandardCharsets.UTF_8), b.get(i).getBytes(StandardCharsets.UTF_8));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
