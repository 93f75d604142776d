package io.dbmigrate.activities.validation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/** A table's progress as the engine records it once both passes are done: bounds, and two sums per chunk. */
public final class ValidationEngineSizes {
    private ValidationEngineSizes() {}

    public static Progress.InMemory progress(String table, int chunks, boolean uuidKey) {
        Random r = new Random(7);
        Progress.InMemory p = new Progress.InMemory();
        List<List<String>> bounds = new ArrayList<>();
        for (int i = 1; i < chunks; i++) {
            bounds.add(List.of(uuidKey ? new UUID(r.nextLong(), r.nextLong()).toString() : Long.toString(10_000L * i)));
        }
        p.planned(table, bounds);
        List<Long> starts = new ArrayList<>();
        Set<Integer> done = new HashSet<>();
        for (int i = 0; i < Math.max(3, chunks / 100); i++) {
            starts.add(16_384L * i);
            done.add(i);
        }
        for (boolean source : new boolean[] {true, false}) {
            Map<Integer, Sum> sums = new HashMap<>();
            for (int i = 0; i < chunks; i++) {
                // a sum of about 10,000 64-bit hashes: 22-23 digits and a sign
                sums.put(i, new Sum(9_000 + r.nextInt(2_000), new java.math.BigInteger(75, r).negate().toString()));
            }
            p.passed(table, source, new Progress.Pass(starts, done, sums));
        }
        return p;
    }
}
