package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.pipeline.ChangeEvent;
import io.dbmigrate.workflows.model.TableRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per table, the primary keys of the rows the change topic touched after a validation mark, or why the table needs a
 * whole-table check instead. Pure: fed with decoded records in topic order. Whenever a record cannot be reduced to
 * keys with certainty, the answer is a full check, never a skipped row.
 */
public final class TouchedKeys {
    private final Map<TableRef, List<String>> primaryKeys;
    private final TableRef ignored;
    private final int maxKeysPerTable;
    private final Map<TableRef, Set<List<String>>> keys = new HashMap<>();
    private final Map<TableRef, String> full = new LinkedHashMap<>();
    private String everything;
    private long records;

    /**
     * @param primaryKeys the tables checked, each with its primary-key columns (empty: no primary key, always full)
     * @param ignored dbmigrate's own heartbeat table, whose rows are not validated (may be null)
     * @param maxKeysPerTable above this many keys, comparing them one by one costs more than reading the table
     */
    public TouchedKeys(Map<TableRef, List<String>> primaryKeys, TableRef ignored, int maxKeysPerTable) {
        this.primaryKeys = Map.copyOf(primaryKeys);
        this.ignored = ignored;
        this.maxKeysPerTable = maxKeysPerTable;
        primaryKeys.forEach((t, pk) -> {
            if (pk.isEmpty()) {
                full.put(t, "no primary key");
            } else {
                keys.put(t, new LinkedHashSet<>());
            }
        });
    }

    /** Every table needs a whole-table check (no mark, a record that cannot be read, ...). */
    public void allFull(String why) {
        if (everything == null) {
            everything = why;
        }
    }

    public void accept(ChangeEvent e) {
        records++;
        if (!e.isData()) {
            return; // BEGIN, END, heartbeats: no rows
        }
        if (e.table() == null) {
            allFull("a change without a table at topic offset " + e.offset());
            return;
        }
        if (e.table().equals(ignored)) {
            return;
        }
        List<String> pk = primaryKeys.get(e.table());
        if (pk == null) {
            // the stream carries a table this check does not know (a partition listed apart from its root, ...):
            // which checked table it belongs to is not certain, so none is trusted
            allFull("a change of " + e.table() + ", which is not among the validated tables, at topic offset " + e.offset());
            return;
        }
        if (full.containsKey(e.table())) {
            return;
        }
        switch (e.kind()) {
            case TRUNCATE -> full(e.table(), "truncated at topic offset " + e.offset());
            case READ -> full(e.table(), "snapshot rows in the stream at topic offset " + e.offset());
            case INSERT -> key(e, pk, e.after());
            case DELETE -> key(e, pk, e.before());
            case UPDATE -> {
                // a key change moves the row: the old key must now be absent on both sides, the new one equal.
                // No before image: the key did not change (pgoutput sends the old key whenever it changes)
                if (e.before() != null) {
                    key(e, pk, e.before());
                }
                key(e, pk, e.after());
            }
            default -> full(e.table(), "unexpected " + e.kind() + " at topic offset " + e.offset());
        }
    }

    private void key(ChangeEvent e, List<String> pk, Map<String, String> image) {
        if (full.containsKey(e.table())) {
            return;
        }
        if (image == null) {
            // an UPDATE's before image is optional (absent unless the key changed); an INSERT or DELETE needs its image
            full(e.table(), e.kind() + " without its row image at topic offset " + e.offset());
            return;
        }
        List<String> k = new ArrayList<>(pk.size());
        for (String col : pk) {
            String v = image.get(col);
            if (v == null || ChangeEvent.UNCHANGED_TOAST.equals(v)) {
                // e.g. a before image by a replica identity index other than the primary key: the old key is unknown
                full(e.table(), "key column " + col + " not in the " + e.kind() + " at topic offset " + e.offset());
                return;
            }
            k.add(v);
        }
        Set<List<String>> set = keys.get(e.table());
        set.add(List.copyOf(k));
        if (set.size() > maxKeysPerTable) {
            full(e.table(), "more than " + maxKeysPerTable + " keys touched");
        }
    }

    private void full(TableRef t, String why) {
        full.putIfAbsent(t, why);
        keys.remove(t);
    }

    /** Why {@code t} needs a whole-table check, or null when its touched keys suffice. */
    public String fullCheckReason(TableRef t) {
        if (everything != null) {
            return everything;
        }
        if (!primaryKeys.containsKey(t)) {
            return "not tracked";
        }
        return full.get(t);
    }

    /** The keys touched in {@code t} (each as PostgreSQL text, in primary-key order); only when no full check is needed. */
    public Set<List<String>> keys(TableRef t) {
        if (fullCheckReason(t) != null) {
            throw new IllegalStateException(t + " needs a full check: " + fullCheckReason(t));
        }
        return keys.get(t);
    }

    public long records() {
        return records;
    }
}
