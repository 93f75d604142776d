package io.dbmigrate.activities.cutover;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The ini fragment, included by pgbouncer.ini, that holds the {@code [databases]} entries. Rewriting keeps every other
 * line as it is (comments, other databases, other sections) and replaces or adds the one entry of one database.
 */
public final class DatabasesFragment {
    /** What PgBouncer accepts as a bare name on its admin console and as a key here, without quoting. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9_.:-]+");

    private DatabasesFragment() {}

    /** The entry's value: where PgBouncer sends the database's server connections. */
    public static String entryValue(String host, int port, String dbname) {
        if (host == null || !HOST.matcher(host).matches()) {
            throw new IllegalArgumentException("PgBouncer entry: host '" + host + "' is not a plain host name or address");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("PgBouncer entry: port " + port + " is outside 1-65535");
        }
        requireName(dbname, "the target database name");
        return "host=" + host + " port=" + port + " dbname=" + dbname;
    }

    /**
     * The fragment with {@code db}'s entry set to {@code value}: the existing line replaced in place (a second line for
     * the same name, which PgBouncer would let win, removed), or a new line after the section's last entry. An empty
     * fragment becomes a {@code [databases]} section; a fragment with entries but no section header is refused,
     * because which section they belong to depends on where pgbouncer.ini includes it.
     */
    public static String withEntry(String text, String db, String value) {
        requireName(db, "the database name");
        List<String> lines = new ArrayList<>(text.lines().toList());
        int section = -1;
        int sectionEnd = lines.size(); // exclusive
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).strip();
            if (t.startsWith("[")) {
                if (section >= 0) {
                    sectionEnd = i;
                    break;
                }
                if (t.equalsIgnoreCase("[databases]")) {
                    section = i;
                }
            }
        }
        String entry = db + " = " + value;
        if (section < 0) {
            boolean onlyComments = lines.stream().map(String::strip)
                    .allMatch(l -> l.isEmpty() || l.startsWith(";") || l.startsWith("#"));
            if (!onlyComments) {
                throw new IllegalArgumentException("the PgBouncer databases file has no [databases] section header;"
                        + " add one so the entries do not depend on where pgbouncer.ini includes the file");
            }
            lines.add("[databases]");
            lines.add(entry);
            return String.join("\n", lines) + "\n";
        }
        int found = -1;
        int lastEntry = section;
        for (int i = sectionEnd - 1; i > section; i--) {
            String key = keyOf(lines.get(i));
            if (key == null) {
                continue;
            }
            lastEntry = Math.max(lastEntry, i);
            if (key.equals(db)) {
                if (found >= 0) {
                    lines.remove(found); // the later duplicate; only indices above i move
                }
                found = i;
            }
        }
        if (found >= 0) {
            lines.set(found, entry);
        } else {
            lines.add(lastEntry + 1, entry);
        }
        return String.join("\n", lines) + "\n";
    }

    /** The database name a line defines, unquoted; null for comments, blank lines and anything else. */
    static String keyOf(String line) {
        String t = line.strip();
        if (t.isEmpty() || t.startsWith(";") || t.startsWith("#") || t.startsWith("[") || t.startsWith("%")) {
            return null;
        }
        int eq = t.indexOf('=');
        if (eq <= 0) {
            return null;
        }
        String key = t.substring(0, eq).strip();
        if (key.length() >= 2 && key.startsWith("\"") && key.endsWith("\"")) {
            key = key.substring(1, key.length() - 1);
        }
        return key;
    }

    static String requireName(String name, String what) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("PgBouncer: " + what + " '" + name + "' is refused: only letters, digits,"
                    + " '_', '.' and '-' are accepted (admin console commands take the name unquoted)");
        }
        return name;
    }
}
