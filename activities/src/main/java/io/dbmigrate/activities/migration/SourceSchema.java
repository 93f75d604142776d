package io.dbmigrate.activities.migration;

import io.dbmigrate.activities.sql.Sql;
import io.dbmigrate.workflows.model.DbObject;
import io.dbmigrate.workflows.model.DbObject.Kind;
import io.dbmigrate.workflows.model.TableRef;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.StringJoiner;

/**
 * A schema's DDL built from the source's catalogs with the server's own rendering functions (pg_get_indexdef,
 * pg_get_constraintdef, pg_get_triggerdef, pg_get_functiondef, pg_get_viewdef, pg_get_expr, pg_get_partkeydef,
 * format_type), so no pg_dump is needed and no client tool has to match the server's version.
 *
 * <p>Extracted: schemas, collations, enum, domain (with their constraints), composite and range types, sequences
 * (options, OWNED BY), functions and procedures, tables (columns with types, collations, defaults, identity, generated
 * expressions, NOT NULL; CHECK constraints; partitions with their bounds; storage parameters, UNLOGGED, replica
 * identity, row-level security), primary keys, unique, exclusion and foreign-key constraints, indexes, triggers
 * (and whether they are enabled), rules, policies, extended statistics, views. Not extracted: objects that belong to
 * an extension, materialized views, aggregates, operators, base types, comments, owners and privileges (the target's
 * role owns what it creates), tablespaces, column statistics targets and storage modes.
 *
 * <p>Everything is rendered with an empty search_path, so every name of a user object comes out schema-qualified and
 * the statements mean the same on a target session with any search_path. Identifiers this class puts together are
 * quoted by {@link Sql}; catalog queries bind their values as parameters.
 *
 * <p>Order: a topological sort over pg_depend among the extracted objects (a domain over an enum, a composite over
 * a domain, a view over a view, a default calling a function, a foreign key after the key it references), oid order
 * as the tie-break. A partitioned table's key, unique constraints and indexes come after those of its partitions and
 * attach them (pg_dump's way), so every name on the target is the source's.
 */
public final class SourceSchema {
    /** The rendering and catalog columns used here (tgparentid, relispartition, prokind...) exist from 13 on. */
    static final int MIN_VERSION_NUM = 130000;

    private SourceSchema() {}

    /** Every table of {@code schemas}, with everything else in them. */
    public static SchemaScript extract(Connection c, Set<String> schemas) throws SQLException {
        return extract(c, schemas, null);
    }

    /**
     * The given tables (roots; their partitions come along, wherever they live) and the other objects of
     * {@code schemas}: types, sequences, functions, views. {@code tables} null means every table of the schemas. Runs
     * in a read-only repeatable-read transaction of its own, so the connection must be in auto-commit mode.
     */
    public static SchemaScript extract(Connection c, Set<String> schemas, Collection<TableRef> tables) throws SQLException {
        return extract(c, schemas, tables, false);
    }

    /**
     * As {@link #extract(Connection, Set, Collection)}; with {@code subset} (the plan lists its tables) only the tables
     * and what they need, transitively (their types, sequences, functions their defaults, checks and triggers call),
     * not every object of their schemas.
     */
    public static SchemaScript extract(Connection c, Set<String> schemas, Collection<TableRef> tables, boolean subset)
            throws SQLException {
        if (!c.getAutoCommit()) {
            throw new IllegalArgumentException("SourceSchema.extract needs a connection in auto-commit mode (it runs its own transaction)");
        }
        int version = Integer.parseInt(one(c, "SELECT current_setting('server_version_num')"));
        if (version < MIN_VERSION_NUM) {
            throw new SQLException("the source runs PostgreSQL " + one(c, "SELECT current_setting('server_version')")
                    + ": creating the target schema from its catalogs needs PostgreSQL 13 or newer", "0A000");
        }
        c.setAutoCommit(false);
        try {
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SELECT pg_catalog.set_config('search_path', '', true)");
            }
            return new Extraction(c, schemas, tables, subset && tables != null).run();
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** An object being extracted: what it becomes, its section, and what must exist before it. */
    private static final class Node {
        final long oid;
        final DbObject id;
        final TableRef table;
        boolean postData;
        final List<String> sql = new ArrayList<>();
        final Set<Node> needs = new LinkedHashSet<>();
        /** Tie-break after the oid (a sequence and its OWNED BY share one): the order the queries met them. */
        final int made;

        Node(long oid, int made, DbObject id, TableRef table, boolean postData) {
            this.oid = oid;
            this.made = made;
            this.id = id;
            this.table = table;
            this.postData = postData;
        }
    }

    /**
     * A table being extracted; {@code parent} is the partitioned table it is a partition of (0 if none). A partition
     * whose parent is extracted too is created PARTITION OF it; one asked for on its own, as a plain table.
     */
    private record Table(long oid, TableRef ref, long parent, Node node) {}

    /** The statements a query's rows render to. */
    @FunctionalInterface
    private interface RowHandler {
        void row(ResultSet rs) throws SQLException;
    }

    private static final class Extraction {
        private final Connection c;
        private final Set<String> schemas = new LinkedHashSet<>();
        private final Collection<TableRef> roots;
        /** "catalog:oid" of every object and sub-object extracted, to the node it belongs to. */
        private final Map<String, Node> byKey = new HashMap<>();
        private final List<Node> nodes = new ArrayList<>();
        private final Map<Long, Table> tables = new LinkedHashMap<>();
        private final Map<Long, Node> views = new LinkedHashMap<>();
        /** A partitioned table's index or key constraint (by index oid) to the partitions' ones it attaches. */
        private final Map<Long, List<Long>> childIndexes = new HashMap<>();
        private final Map<Long, Node> indexNodes = new HashMap<>();
        /** Sequences the tables use (defaults, OWNED BY, identity), wherever they live, and the schemas they live in. */
        private final Set<Long> usedSequences = new LinkedHashSet<>();
        private final Set<String> sequenceSchemas = new LinkedHashSet<>();

        private final boolean subset;

        Extraction(Connection c, Set<String> schemas, Collection<TableRef> roots, boolean subset) {
            this.c = c;
            this.subset = subset;
            this.schemas.addAll(schemas);
            this.roots = roots;
        }

        SchemaScript run() throws SQLException {
            resolveTables();
            usedSequences();
            namespaces();
            collations();
            types();
            sequences();
            functions();
            tableDefinitions();
            constraints();
            indexes();
            triggers();
            views();
            rules();
            policies();
            statistics();
            dependencies();
            if (subset) {
                keepWhatTheTablesNeed();
            }
            return sorted();
        }

        // ---- the tables: the roots asked for and all their partitions

        private void resolveTables() throws SQLException {
            List<Long> rootOids = new ArrayList<>();
            if (roots == null) {
                query("""
                        SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = ANY (?) AND c.relkind IN ('r', 'p') AND NOT c.relispartition""" + own("pg_class", "c")
                        + " ORDER BY c.oid", rs -> rootOids.add(rs.getLong(1)), texts(schemas));
            } else {
                for (TableRef t : roots) {
                    int before = rootOids.size();
                    query("""
                            SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')""",
                            rs -> rootOids.add(rs.getLong(1)), t.schema(), t.name());
                    if (rootOids.size() == before) {
                        throw new SQLException("table " + Sql.table(t) + " does not exist on the source", "42P01");
                    }
                }
            }
            query("""
                    WITH RECURSIVE t(oid) AS (
                        SELECT r FROM pg_catalog.unnest(?::pg_catalog.oid[]) r
                        UNION
                        SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN t ON i.inhparent = t.oid
                          JOIN pg_catalog.pg_class p ON p.oid = i.inhrelid AND p.relispartition)
                    SELECT c.oid, n.nspname, c.relname,
                           (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition),
                           c.reltype, ty.typarray
                      FROM t JOIN pg_catalog.pg_class c ON c.oid = t.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      LEFT JOIN pg_catalog.pg_type ty ON ty.oid = c.reltype
                     ORDER BY c.oid""", rs -> {
                long oid = rs.getLong(1);
                TableRef ref = new TableRef(rs.getString(2), rs.getString(3));
                Node n = node("pg_class", oid, DbObject.table(ref), null, false);
                alias("pg_type", rs.getLong(5), n);
                alias("pg_type", rs.getLong(6), n);
                tables.put(oid, new Table(oid, ref, rs.getLong(4), n));
                schemas.add(ref.schema());
            }, oids(rootOids));
            tables.replaceAll((oid, t) -> tables.containsKey(t.parent) ? t : new Table(oid, t.ref, 0, t.node));
        }

        /** A sequence of another schema a table uses comes along (with its schema, and nothing else of it). */
        private void usedSequences() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            query("SELECT c.oid, n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE c.oid IN (" + Sequences.USED_BY_TABLES + ")", rs -> {
                usedSequences.add(rs.getLong(1));
                sequenceSchemas.add(rs.getString(2));
            }, oids(tables.keySet()), oids(tables.keySet()));
        }

        // ---- schema-level objects

        private void namespaces() throws SQLException {
            Set<String> all = new LinkedHashSet<>(schemas);
            all.addAll(sequenceSchemas);
            query("SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY (?) ORDER BY n.oid", rs -> {
                Node n = node("pg_namespace", rs.getLong(1), DbObject.of(Kind.SCHEMA, null, rs.getString(2)), null, false);
                n.sql.add("CREATE SCHEMA IF NOT EXISTS " + Sql.ident(rs.getString(2)));
            }, texts(all));
        }

        /**
         * A filter: objects no extension owns and that are no internal part of another object (a range type's
         * constructor functions and multirange type, an identity column's sequence), which come with their owner.
         */
        private static String own(String catalog, String alias) {
            // (a partitioned table's key columns depend on the table itself, internally: that is no owner)
            return " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog." + catalog
                    + "'::pg_catalog.regclass AND e.objid = " + alias + ".oid AND (e.deptype = 'e' OR e.deptype = 'i' AND "
                    + "(e.refclassid, e.refobjid) <> (e.classid, e.objid)))";
        }

        private void collations() throws SQLException {
            query("""
                    SELECT c.oid, n.nspname, c.collname, c.collprovider, c.collisdeterministic, c.collcollate, c.collctype,
                           coalesce(pg_catalog.to_jsonb(c) ->> 'colllocale', pg_catalog.to_jsonb(c) ->> 'colliculocale'),
                           pg_catalog.to_jsonb(c) ->> 'collicurules'
                      FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
                     WHERE n.nspname = ANY (?) AND c.collprovider <> 'd'""" + own("pg_collation", "c") + " ORDER BY c.oid", rs -> {
                String provider = switch (rs.getString(4)) {
                    case "i" -> "icu";
                    case "b" -> "builtin";
                    default -> "libc";
                };
                StringJoiner opts = new StringJoiner(", ", " (", ")");
                opts.add("provider = " + provider);
                String collate = rs.getString(6);
                String ctype = rs.getString(7);
                String locale = rs.getString(8);
                if (!"libc".equals(provider)) {
                    opts.add("locale = " + Sql.literal(locale != null ? locale : collate));
                } else if (collate != null && collate.equals(ctype)) {
                    opts.add("locale = " + Sql.literal(collate));
                } else {
                    opts.add("lc_collate = " + Sql.literal(collate)).add("lc_ctype = " + Sql.literal(ctype));
                }
                if (rs.getString(9) != null) {
                    opts.add("rules = " + Sql.literal(rs.getString(9)));
                }
                if (!rs.getBoolean(5)) {
                    opts.add("deterministic = false");
                }
                Node n = node("pg_collation", rs.getLong(1), DbObject.of(Kind.COLLATION, rs.getString(2), rs.getString(3)), null, false);
                n.sql.add("CREATE COLLATION " + Sql.table(rs.getString(2), rs.getString(3)) + opts);
            }, texts(schemas));
        }

        private void types() throws SQLException {
            Map<Long, Node> enums = new LinkedHashMap<>();
            Map<Long, Node> composites = new LinkedHashMap<>();
            Map<Long, Node> domains = new LinkedHashMap<>();
            Map<Long, Node> ranges = new LinkedHashMap<>();
            Map<Long, Boolean> domainNotNull = new HashMap<>();
            Map<Long, StringBuilder> domainHead = new HashMap<>();
            query("""
                    SELECT t.oid, n.nspname, t.typname, t.typtype, t.typarray, t.typrelid,
                           pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                           pg_catalog.pg_get_expr(t.typdefaultbin, 0), cn.nspname, co.collname
                      FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                      LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
                      LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation AND t.typtype = 'd' AND t.typcollation <> bt.typcollation
                      LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                     WHERE n.nspname = ANY (?)
                       AND (t.typtype IN ('e', 'd', 'r')
                            OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_catalog.pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))"""
                    + own("pg_type", "t") + " ORDER BY t.oid", rs -> {
                long oid = rs.getLong(1);
                String schema = rs.getString(2);
                String name = rs.getString(3);
                char typtype = rs.getString(4).charAt(0);
                Node n = node("pg_type", oid, DbObject.of(typtype == 'd' ? Kind.DOMAIN : Kind.TYPE, schema, name), null, false);
                alias("pg_type", rs.getLong(5), n);
                switch (typtype) {
                    case 'e' -> enums.put(oid, n);
                    case 'c' -> {
                        composites.put(rs.getLong(6), n);
                        alias("pg_class", rs.getLong(6), n);
                    }
                    case 'r' -> ranges.put(oid, n);
                    default -> {
                        StringBuilder head = new StringBuilder("CREATE DOMAIN " + Sql.table(schema, name) + " AS " + rs.getString(7));
                        if (rs.getString(10) != null) {
                            head.append(" COLLATE ").append(Sql.table(rs.getString(10), rs.getString(11)));
                        }
                        if (rs.getString(9) != null) {
                            head.append(" DEFAULT ").append(rs.getString(9));
                        }
                        domains.put(oid, n);
                        domainHead.put(oid, head);
                        domainNotNull.put(oid, rs.getBoolean(8));
                    }
                }
            }, texts(schemas));
            if (!enums.isEmpty()) {
                Map<Long, StringJoiner> labels = new LinkedHashMap<>();
                query("SELECT e.enumtypid, e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = ANY (?::pg_catalog.oid[]) ORDER BY e.enumtypid, e.enumsortorder",
                        rs -> labels.computeIfAbsent(rs.getLong(1), k -> new StringJoiner(", ", "(", ")")).add(Sql.literal(rs.getString(2))),
                        oids(enums.keySet()));
                enums.forEach((oid, n) -> n.sql.add("CREATE TYPE " + name(n) + " AS ENUM "
                        + labels.getOrDefault(oid, new StringJoiner(", ", "(", ")"))));
            }
            if (!composites.isEmpty()) {
                Map<Long, StringJoiner> attrs = new LinkedHashMap<>();
                query("""
                        SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), cn.nspname, co.collname
                          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                          LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
                          LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                         WHERE a.attrelid = ANY (?::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
                         ORDER BY a.attrelid, a.attnum""", rs -> attrs.computeIfAbsent(rs.getLong(1), k -> new StringJoiner(", ", "(", ")"))
                        .add(Sql.ident(rs.getString(2)) + " " + rs.getString(3)
                                + (rs.getString(4) == null ? "" : " COLLATE " + Sql.table(rs.getString(4), rs.getString(5)))),
                        oids(composites.keySet()));
                composites.forEach((relid, n) -> n.sql.add("CREATE TYPE " + name(n) + " AS "
                        + attrs.getOrDefault(relid, new StringJoiner(", ", "(", ")"))));
            }
            if (!domains.isEmpty()) {
                Set<Long> namedNotNull = new HashSet<>();
                Map<Long, List<String>> checks = new LinkedHashMap<>();
                query("""
                        SELECT co.oid, co.contypid, co.conname, pg_catalog.pg_get_constraintdef(co.oid), co.contype
                          FROM pg_catalog.pg_constraint co WHERE co.contypid = ANY (?::pg_catalog.oid[]) ORDER BY co.contypid, co.oid""", rs -> {
                    Node n = domains.get(rs.getLong(2));
                    alias("pg_constraint", rs.getLong(1), n);
                    if ("n".equals(rs.getString(5))) {
                        namedNotNull.add(rs.getLong(2)); // PostgreSQL 17+ keeps a domain's NOT NULL as a named constraint
                    }
                    checks.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add("ALTER DOMAIN " + name(n) + " ADD CONSTRAINT "
                            + Sql.ident(rs.getString(3)) + " " + rs.getString(4));
                }, oids(domains.keySet()));
                domains.forEach((oid, n) -> {
                    StringBuilder head = domainHead.get(oid);
                    if (domainNotNull.get(oid) && !namedNotNull.contains(oid)) {
                        head.append(" NOT NULL");
                    }
                    n.sql.add(head.toString());
                    n.sql.addAll(checks.getOrDefault(oid, List.of()));
                });
            }
            if (!ranges.isEmpty()) {
                query("""
                        SELECT r.rngtypid, pg_catalog.format_type(r.rngsubtype, NULL), ocn.nspname, oc.opcname, oc.opcdefault,
                               cn.nspname, co.collname, dn.nspname, dp.proname, mn.nspname, m.typname, m.oid, m.typarray
                          FROM pg_catalog.pg_range r
                          JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
                          JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace
                          LEFT JOIN pg_catalog.pg_collation co ON co.oid = r.rngcollation AND r.rngcollation <> st.typcollation
                          LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                          LEFT JOIN pg_catalog.pg_proc dp ON dp.oid = r.rngsubdiff LEFT JOIN pg_catalog.pg_namespace dn ON dn.oid = dp.pronamespace
                          LEFT JOIN pg_catalog.pg_type m ON m.oid = (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid
                          LEFT JOIN pg_catalog.pg_namespace mn ON mn.oid = m.typnamespace
                         WHERE r.rngtypid = ANY (?::pg_catalog.oid[]) ORDER BY r.rngtypid""", rs -> {
                    Node n = ranges.get(rs.getLong(1));
                    StringJoiner opts = new StringJoiner(", ", " (", ")");
                    opts.add("SUBTYPE = " + rs.getString(2));
                    if (!rs.getBoolean(5)) {
                        opts.add("SUBTYPE_OPCLASS = " + Sql.table(rs.getString(3), rs.getString(4)));
                    }
                    if (rs.getString(7) != null) {
                        opts.add("COLLATION = " + Sql.table(rs.getString(6), rs.getString(7)));
                    }
                    if (rs.getString(9) != null) {
                        opts.add("SUBTYPE_DIFF = " + Sql.table(rs.getString(8), rs.getString(9)));
                    }
                    if (rs.getString(11) != null) {
                        opts.add("MULTIRANGE_TYPE_NAME = " + Sql.table(rs.getString(10), rs.getString(11)));
                        alias("pg_type", rs.getLong(12), n);
                        alias("pg_type", rs.getLong(13), n);
                    }
                    n.sql.add("CREATE TYPE " + name(n) + " AS RANGE" + opts);
                }, oids(ranges.keySet()));
            }
        }

        private void sequences() throws SQLException {
            query("""
                    SELECT c.oid, n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
                           s.seqmin, s.seqmax, s.seqcache, s.seqcycle, c.relpersistence, od.refobjid, oa.attname
                      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
                      LEFT JOIN pg_catalog.pg_depend od ON od.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND od.objid = c.oid
                           AND od.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND od.deptype = 'a'
                      LEFT JOIN pg_catalog.pg_attribute oa ON oa.attrelid = od.refobjid AND oa.attnum = od.refobjsubid
                     WHERE (n.nspname = ANY (?) OR c.oid = ANY (?::pg_catalog.oid[])) AND c.relkind = 'S'""" + own("pg_class", "c")
                    + " ORDER BY c.oid", rs -> {
                Node n = node("pg_class", rs.getLong(1), DbObject.of(Kind.SEQUENCE, rs.getString(2), rs.getString(3)), null, false);
                n.sql.add("CREATE " + ("u".equals(rs.getString(11)) ? "UNLOGGED " : "") + "SEQUENCE " + name(n) + " AS " + rs.getString(4)
                        + sequenceOptions(rs, 5));
                Table owner = tables.get(rs.getLong(12));
                if (owner != null) {
                    // an object of its own, after both, named as the sequence: where the target has the sequence
                    // already, neither is created (a created table must not own, and drop, what was there before)
                    Node owned = new Node(rs.getLong(1), nodes.size(), n.id, owner.ref, false);
                    nodes.add(owned);
                    owned.needs.add(n);
                    owned.needs.add(owner.node);
                    owned.sql.add("ALTER SEQUENCE " + name(n) + " OWNED BY " + Sql.table(owner.ref) + "." + Sql.ident(rs.getString(13)));
                }
            }, texts(schemas), oids(usedSequences));
        }

        /** START WITH ... [NO] CYCLE from pg_sequence's columns seqstart, seqincrement, seqmin, seqmax, seqcache, seqcycle. */
        private static String sequenceOptions(ResultSet rs, int from) throws SQLException {
            return " START WITH " + rs.getLong(from) + " INCREMENT BY " + rs.getLong(from + 1) + " MINVALUE " + rs.getLong(from + 2)
                    + " MAXVALUE " + rs.getLong(from + 3) + " CACHE " + rs.getLong(from + 4) + (rs.getBoolean(from + 5) ? " CYCLE" : " NO CYCLE");
        }

        private void functions() throws SQLException {
            query("""
                    SELECT p.oid, n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes), pg_catalog.pg_get_functiondef(p.oid)
                      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = ANY (?) AND p.prokind IN ('f', 'p')""" + own("pg_proc", "p") + " ORDER BY p.oid", rs -> {
                Node n = node("pg_proc", rs.getLong(1), new DbObject(Kind.FUNCTION, rs.getString(2), rs.getString(3), rs.getString(4)), null, false);
                n.sql.add(rs.getString(5).strip());
            }, texts(schemas));
        }

        // ---- tables

        private void tableDefinitions() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            Map<Long, List<String>> columns = new HashMap<>();
            Map<Long, Map<String, ColumnState>> states = new HashMap<>();
            Map<Long, List<String>> checks = new HashMap<>();
            Map<Long, List<String>> partitionChecks = new HashMap<>();
            Map<String, String> identity = new HashMap<>();
            Map<String, String> notNullNames = new HashMap<>();
            Object all = oids(tables.keySet());
            // identity columns: their sequence's name and options
            query("""
                    SELECT d.refobjid, d.refobjsubid, n.nspname, c.relname, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
                      FROM pg_catalog.pg_depend d
                      JOIN pg_catalog.pg_class c ON c.oid = d.objid AND c.relkind = 'S' JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
                     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                       AND d.deptype = 'i' AND d.refobjid = ANY (?::pg_catalog.oid[])""",
                    rs -> identity.put(rs.getLong(1) + ":" + rs.getInt(2), " (SEQUENCE NAME " + Sql.table(rs.getString(3), rs.getString(4))
                            + sequenceOptions(rs, 5) + ")"), all);
            // PostgreSQL 18+ names NOT NULL constraints (contype 'n'); before, the column flag is all there is
            query("""
                    SELECT co.conrelid, co.conkey[1], co.conname FROM pg_catalog.pg_constraint co
                     WHERE co.contype = 'n' AND co.conrelid = ANY (?::pg_catalog.oid[])""",
                    rs -> notNullNames.put(rs.getLong(1) + ":" + rs.getInt(2), rs.getString(3)), all);
            query("""
                    SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                           a.attgenerated, pg_catalog.pg_get_expr(d.adbin, d.adrelid), d.oid, cn.nspname, co.collname
                      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                      LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
                      LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                     WHERE a.attrelid = ANY (?::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY a.attrelid, a.attnum""", rs -> {
                long rel = rs.getLong(1);
                Table t = tables.get(rel);
                String col = rs.getString(3);
                String def = rs.getString(8);
                if (rs.getLong(9) != 0) {
                    alias("pg_attrdef", rs.getLong(9), t.node);
                }
                String key = rel + ":" + rs.getInt(2);
                String generated = rs.getString(7);
                String identityKind = rs.getString(6);
                StringBuilder b = new StringBuilder(Sql.ident(col)).append(' ').append(rs.getString(4));
                if (rs.getString(11) != null) {
                    b.append(" COLLATE ").append(Sql.table(rs.getString(10), rs.getString(11)));
                }
                if (!generated.isEmpty()) {
                    b.append(" GENERATED ALWAYS AS (").append(def).append(")").append("s".equals(generated) ? " STORED" : " VIRTUAL");
                } else if (def != null) {
                    b.append(" DEFAULT ").append(def);
                }
                if (!identityKind.isEmpty()) {
                    b.append(" GENERATED ").append("a".equals(identityKind) ? "ALWAYS" : "BY DEFAULT").append(" AS IDENTITY")
                            .append(identity.getOrDefault(key, ""));
                }
                if (rs.getBoolean(5)) {
                    String named = notNullNames.get(key);
                    b.append(named == null ? " NOT NULL" : " CONSTRAINT " + Sql.ident(named) + " NOT NULL");
                }
                columns.computeIfAbsent(rel, k -> new ArrayList<>()).add(b.toString());
                states.computeIfAbsent(rel, k -> new LinkedHashMap<>())
                        .put(col, new ColumnState(rs.getBoolean(5), generated.isEmpty() ? def : null));
            }, all);
            query("""
                    SELECT co.oid, co.conrelid, co.conname, pg_catalog.pg_get_constraintdef(co.oid), co.convalidated, co.coninhcount
                      FROM pg_catalog.pg_constraint co
                     WHERE co.contype = 'c' AND co.conrelid = ANY (?::pg_catalog.oid[]) ORDER BY co.conrelid, co.oid""", rs -> {
                Table t = tables.get(rs.getLong(2));
                String constraint = "CONSTRAINT " + Sql.ident(rs.getString(3)) + " " + rs.getString(4);
                if (!rs.getBoolean(5)) {
                    // not validated on the source: added after the data, as declared (NOT VALID), like pg_dump does
                    Node n = node("pg_constraint", rs.getLong(1), DbObject.of(Kind.CONSTRAINT, t.ref.schema(), rs.getString(3)), t.ref, true);
                    n.sql.add("ALTER TABLE " + Sql.table(t.ref) + " ADD " + constraint);
                    return;
                }
                alias("pg_constraint", rs.getLong(1), t.node);
                if (t.parent != 0 && rs.getInt(6) > 0) {
                    return; // inherited from the parent with the partition
                }
                (t.parent != 0 ? partitionChecks : checks).computeIfAbsent(t.oid, k -> new ArrayList<>()).add(constraint);
            }, all);
            query("""
                    SELECT c.oid, c.relpersistence, c.reloptions, c.relreplident, c.relrowsecurity, c.relforcerowsecurity,
                           CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
                           CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END
                      FROM pg_catalog.pg_class c WHERE c.oid = ANY (?::pg_catalog.oid[]) ORDER BY c.oid""", rs -> {
                Table t = tables.get(rs.getLong(1));
                List<String> sql = t.node.sql;
                String head = "CREATE " + ("u".equals(rs.getString(2)) ? "UNLOGGED " : "") + "TABLE " + Sql.table(t.ref);
                String partitionBy = rs.getString(7) == null ? "" : " PARTITION BY " + rs.getString(7);
                String with = storageParameters(rs.getArray(3));
                Table parent = tables.get(t.parent);
                if (parent != null) {
                    sql.add(head + " PARTITION OF " + Sql.table(parent.ref) + " " + rs.getString(8) + partitionBy + with);
                    // the columns come from the parent; what a partition declares of its own is a default or NOT NULL
                    Map<String, ColumnState> theirs = states.getOrDefault(parent.oid, Map.of());
                    states.getOrDefault(t.oid, Map.of()).forEach((col, mine) -> {
                        ColumnState p = theirs.getOrDefault(col, new ColumnState(false, null));
                        String alter = "ALTER TABLE ONLY " + Sql.table(t.ref) + " ALTER COLUMN " + Sql.ident(col);
                        if (!java.util.Objects.equals(mine.defaultExpr(), p.defaultExpr())) {
                            sql.add(alter + (mine.defaultExpr() != null ? " SET DEFAULT " + mine.defaultExpr() : " DROP DEFAULT"));
                        }
                        if (mine.notNull() && !p.notNull()) {
                            sql.add(alter + " SET NOT NULL");
                        }
                    });
                    for (String check : partitionChecks.getOrDefault(t.oid, List.of())) {
                        sql.add("ALTER TABLE " + Sql.table(t.ref) + " ADD " + check);
                    }
                } else {
                    StringJoiner body = new StringJoiner(", ", " (", ")");
                    columns.getOrDefault(t.oid, List.of()).forEach(body::add);
                    checks.getOrDefault(t.oid, List.of()).forEach(body::add);
                    sql.add(head + body + partitionBy + with);
                }
                switch (rs.getString(4)) {
                    case "f" -> sql.add("ALTER TABLE ONLY " + Sql.table(t.ref) + " REPLICA IDENTITY FULL");
                    case "n" -> sql.add("ALTER TABLE ONLY " + Sql.table(t.ref) + " REPLICA IDENTITY NOTHING");
                    default -> { } // DEFAULT is what CREATE TABLE gives; USING INDEX comes with the index
                }
                if (rs.getBoolean(5)) {
                    sql.add("ALTER TABLE ONLY " + Sql.table(t.ref) + " ENABLE ROW LEVEL SECURITY");
                }
                if (rs.getBoolean(6)) {
                    sql.add("ALTER TABLE ONLY " + Sql.table(t.ref) + " FORCE ROW LEVEL SECURITY");
                }
            }, all);
        }

        private record ColumnState(boolean notNull, String defaultExpr) {}

        /** {@code WITH (name = 'value', ...)} from reloptions ("name=value"), or nothing. */
        private static String storageParameters(Array reloptions) throws SQLException {
            if (reloptions == null) {
                return "";
            }
            StringJoiner with = new StringJoiner(", ", " WITH (", ")");
            for (Object o : (Object[]) reloptions.getArray()) {
                String opt = (String) o;
                int eq = opt.indexOf('=');
                StringJoiner name = new StringJoiner(".");
                for (String part : opt.substring(0, eq).split("\\.", 2)) {
                    name.add(Sql.ident(part)); // toast.autovacuum_enabled is two names
                }
                with.add(name + " = " + Sql.literal(opt.substring(eq + 1)));
            }
            return with.toString();
        }

        /** Primary keys (preData), unique, exclusion and foreign-key constraints (postData). */
        private void constraints() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            Map<Long, Long> clonedFrom = new LinkedHashMap<>();
            query("""
                    SELECT co.oid, co.conrelid, co.conname, co.contype, pg_catalog.pg_get_constraintdef(co.oid), co.conparentid,
                           co.conindid, i.indisclustered, i.indisreplident, ic.relname, parent.conindid, parent.conrelid
                      FROM pg_catalog.pg_constraint co
                      LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = co.conindid AND co.contype <> 'f'
                      LEFT JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                      LEFT JOIN pg_catalog.pg_constraint parent ON parent.oid = co.conparentid
                     WHERE co.contype IN ('p', 'u', 'x', 'f') AND co.conrelid = ANY (?::pg_catalog.oid[])
                     ORDER BY co.oid""", rs -> {
                Table t = tables.get(rs.getLong(2));
                String type = rs.getString(4);
                long oid = rs.getLong(1);
                if ("f".equals(type)) {
                    if (rs.getLong(6) != 0 && tables.containsKey(rs.getLong(12))) {
                        clonedFrom.put(oid, rs.getLong(6)); // a partition's copy of its parent's key: comes with it
                        return;
                    }
                    Node n = node("pg_constraint", oid, DbObject.of(Kind.CONSTRAINT, t.ref.schema(), rs.getString(3)), t.ref, true);
                    n.sql.add("ALTER TABLE " + Sql.table(t.ref) + " ADD CONSTRAINT " + Sql.ident(rs.getString(3)) + " " + rs.getString(5));
                    return;
                }
                Node n = node("pg_constraint", oid, DbObject.of(Kind.CONSTRAINT, t.ref.schema(), rs.getString(3)), t.ref, !"p".equals(type));
                long index = rs.getLong(7);
                alias("pg_class", index, n);
                indexNodes.put(index, n);
                indexNames.put(n, rs.getString(10));
                if (rs.getLong(6) != 0) {
                    childIndexes.computeIfAbsent(rs.getLong(11), k -> new ArrayList<>()).add(index);
                }
                n.sql.add("ALTER TABLE ONLY " + Sql.table(t.ref) + " ADD CONSTRAINT " + Sql.ident(rs.getString(3)) + " " + rs.getString(5));
                indexOptions(n, t, rs.getString(10), rs.getBoolean(8), rs.getBoolean(9));
            }, oids(tables.keySet()));
            clonedFrom.forEach((oid, parent) -> {
                Node root = byKey.get(key("pg_constraint", parent));
                while (root == null && clonedFrom.containsKey(parent)) {
                    parent = clonedFrom.get(parent);
                    root = byKey.get(key("pg_constraint", parent));
                }
                if (root != null) {
                    alias("pg_constraint", oid, root);
                }
            });
        }

        private static void indexOptions(Node n, Table t, String index, boolean clustered, boolean replicaIdentity) {
            if (clustered) {
                n.sql.add("ALTER TABLE " + Sql.table(t.ref) + " CLUSTER ON " + Sql.ident(index));
            }
            if (replicaIdentity) {
                n.sql.add("ALTER TABLE ONLY " + Sql.table(t.ref) + " REPLICA IDENTITY USING INDEX " + Sql.ident(index));
            }
        }

        private void indexes() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            query("""
                    SELECT i.indexrelid, i.indrelid, ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid), i.indisclustered, i.indisreplident,
                           (SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
                      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                     WHERE i.indrelid = ANY (?::pg_catalog.oid[])
                       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co WHERE co.conindid = i.indexrelid
                                       AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x'))
                     ORDER BY i.indexrelid""", rs -> {
                Table t = tables.get(rs.getLong(2));
                long oid = rs.getLong(1);
                Node n = node("pg_class", oid, DbObject.of(Kind.INDEX, t.ref.schema(), rs.getString(3)), t.ref, true);
                indexNodes.put(oid, n);
                if (rs.getLong(7) != 0) {
                    childIndexes.computeIfAbsent(rs.getLong(7), k -> new ArrayList<>()).add(oid);
                }
                n.sql.add(rs.getString(4));
                indexOptions(n, t, rs.getString(3), rs.getBoolean(5), rs.getBoolean(6));
            }, oids(tables.keySet()));
            // a partitioned table's index (or key) is created ON ONLY it, after its partitions' ones, and attaches them
            childIndexes.forEach((parent, children) -> {
                Node p = indexNodes.get(parent);
                if (p == null) {
                    return;
                }
                int at = 1; // right after the statement that creates it
                for (Long child : children) {
                    Node ch = indexNodes.get(child);
                    if (ch == null) {
                        continue;
                    }
                    p.needs.add(ch);
                    p.sql.add(at++, "ALTER INDEX " + Sql.table(p.id.schema(), indexName(p)) + " ATTACH PARTITION "
                            + Sql.table(ch.id.schema(), indexName(ch)));
                }
            });
        }

        /** A key constraint's index, when its name is not the constraint's. */
        private final Map<Node, String> indexNames = new HashMap<>();

        private String indexName(Node n) {
            return indexNames.getOrDefault(n, n.id.name());
        }

        private void triggers() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            query("""
                    SELECT t.oid, t.tgrelid, t.tgname, pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled
                      FROM pg_catalog.pg_trigger t
                     WHERE t.tgrelid = ANY (?::pg_catalog.oid[]) AND NOT t.tgisinternal
                       AND (t.tgparentid = 0 OR (SELECT p.tgrelid FROM pg_catalog.pg_trigger p WHERE p.oid = t.tgparentid) <> ALL (?::pg_catalog.oid[]))
                       AND t.tgname NOT LIKE 'dbmigrate\\_%\\_fence'
                     ORDER BY t.oid""", rs -> {
                Table t = tables.get(rs.getLong(2));
                Node n = node("pg_trigger", rs.getLong(1), DbObject.of(Kind.TRIGGER, t.ref.schema(), rs.getString(3)), t.ref, true);
                n.sql.add(rs.getString(4));
                String state = switch (rs.getString(5)) {
                    case "D" -> "DISABLE TRIGGER ";
                    case "R" -> "ENABLE REPLICA TRIGGER ";
                    case "A" -> "ENABLE ALWAYS TRIGGER ";
                    default -> null;
                };
                if (state != null) {
                    n.sql.add("ALTER TABLE " + Sql.table(t.ref) + " " + state + Sql.ident(rs.getString(3)));
                }
            }, oids(tables.keySet()), oids(tables.keySet()));
        }

        private void views() throws SQLException {
            query("""
                    SELECT c.oid, n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid), c.reloptions, c.reltype, t.typarray, r.oid
                      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      LEFT JOIN pg_catalog.pg_type t ON t.oid = c.reltype
                      LEFT JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN'
                     WHERE n.nspname = ANY (?) AND c.relkind = 'v'""" + own("pg_class", "c") + " ORDER BY c.oid", rs -> {
                long oid = rs.getLong(1);
                Node n = node("pg_class", oid, DbObject.of(Kind.VIEW, rs.getString(2), rs.getString(3)), null, true);
                alias("pg_type", rs.getLong(6), n);
                alias("pg_type", rs.getLong(7), n);
                alias("pg_rewrite", rs.getLong(8), n);
                views.put(oid, n);
                n.sql.add("CREATE VIEW " + name(n) + storageParameters(rs.getArray(5)) + " AS " + withoutSemicolon(rs.getString(4)));
            }, texts(schemas));
        }

        private static String withoutSemicolon(String sql) {
            String s = sql.strip();
            return s.endsWith(";") ? s.substring(0, s.length() - 1).strip() : s;
        }

        /** The tables' and views' rules other than a view's own. */
        private void rules() throws SQLException {
            Map<Long, TableRef> owners = owners();
            if (owners.isEmpty()) {
                return;
            }
            query("""
                    SELECT r.oid, r.ev_class, r.rulename, pg_catalog.pg_get_ruledef(r.oid), r.ev_enabled
                      FROM pg_catalog.pg_rewrite r WHERE r.ev_class = ANY (?::pg_catalog.oid[]) AND r.rulename <> '_RETURN'
                     ORDER BY r.oid""", rs -> {
                TableRef on = owners.get(rs.getLong(2));
                Node n = node("pg_rewrite", rs.getLong(1), DbObject.of(Kind.RULE, on.schema(), rs.getString(3)), on, true);
                n.sql.add(withoutSemicolon(rs.getString(4)));
                if ("D".equals(rs.getString(5))) {
                    n.sql.add("ALTER TABLE " + Sql.table(on) + " DISABLE RULE " + Sql.ident(rs.getString(3)));
                }
            }, oids(owners.keySet()));
        }

        private Map<Long, TableRef> owners() {
            Map<Long, TableRef> owners = new LinkedHashMap<>();
            tables.forEach((oid, t) -> owners.put(oid, t.ref));
            views.forEach((oid, n) -> owners.put(oid, new TableRef(n.id.schema(), n.id.name())));
            return owners;
        }

        private void policies() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            query("""
                    SELECT p.oid, p.polrelid, p.polname, p.polcmd, p.polpermissive,
                           ARRAY(SELECT CASE WHEN r = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(r) END FROM pg_catalog.unnest(p.polroles) r),
                           pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
                      FROM pg_catalog.pg_policy p WHERE p.polrelid = ANY (?::pg_catalog.oid[]) ORDER BY p.oid""", rs -> {
                Table t = tables.get(rs.getLong(2));
                Node n = node("pg_policy", rs.getLong(1), DbObject.of(Kind.POLICY, t.ref.schema(), rs.getString(3)), t.ref, true);
                String cmd = switch (rs.getString(4)) {
                    case "r" -> "SELECT";
                    case "a" -> "INSERT";
                    case "w" -> "UPDATE";
                    case "d" -> "DELETE";
                    default -> "ALL";
                };
                StringJoiner roles = new StringJoiner(", ");
                for (Object r : (Object[]) rs.getArray(6).getArray()) {
                    roles.add(r == null ? "PUBLIC" : Sql.ident((String) r));
                }
                n.sql.add("CREATE POLICY " + Sql.ident(rs.getString(3)) + " ON " + Sql.table(t.ref) + " AS "
                        + (rs.getBoolean(5) ? "PERMISSIVE" : "RESTRICTIVE") + " FOR " + cmd + " TO " + roles
                        + (rs.getString(7) == null ? "" : " USING (" + rs.getString(7) + ")")
                        + (rs.getString(8) == null ? "" : " WITH CHECK (" + rs.getString(8) + ")"));
            }, oids(tables.keySet()));
        }

        private void statistics() throws SQLException {
            if (tables.isEmpty()) {
                return;
            }
            query("""
                    SELECT s.oid, s.stxrelid, n.nspname, s.stxname, pg_catalog.pg_get_statisticsobjdef(s.oid)
                      FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
                     WHERE s.stxrelid = ANY (?::pg_catalog.oid[]) ORDER BY s.oid""", rs -> {
                Table t = tables.get(rs.getLong(2));
                Node n = node("pg_statistic_ext", rs.getLong(1), DbObject.of(Kind.STATISTICS, rs.getString(3), rs.getString(4)), t.ref, true);
                n.sql.add(rs.getString(5));
            }, oids(tables.keySet()));
        }

        // ---- order

        /** pg_depend among the extracted objects, and each schema-level object after its schema. */
        private void dependencies() throws SQLException {
            for (Node n : nodes) {
                if (n.table == null && n.id.schema() != null) {
                    nodes.stream().filter(s -> s.id.kind() == Kind.SCHEMA && s.id.name().equals(n.id.schema())).findFirst()
                            .ifPresent(n.needs::add);
                }
            }
            query("""
                    SELECT d.classid::pg_catalog.regclass::pg_catalog.text, d.objid, d.refclassid::pg_catalog.regclass::pg_catalog.text, d.refobjid
                      FROM pg_catalog.pg_depend d WHERE d.deptype IN ('n', 'a')""", rs -> {
                Node from = byKey.get(key(rs.getString(1), rs.getLong(2)));
                Node to = byKey.get(key(rs.getString(3), rs.getLong(4)));
                if (from == null || to == null || from == to) {
                    return;
                }
                if (from.id.kind() == Kind.SEQUENCE && to.id.kind() == Kind.TABLE) {
                    return; // OWNED BY: the table names the sequence, which goes first
                }
                from.needs.add(to);
            });
        }

        /** The tables, what belongs to them (keys, indexes, triggers...), and everything those need, transitively. */
        private void keepWhatTheTablesNeed() {
            Set<TableRef> refs = new HashSet<>();
            java.util.Deque<Node> todo = new java.util.ArrayDeque<>();
            for (Table t : tables.values()) {
                refs.add(t.ref);
                todo.add(t.node);
            }
            nodes.stream().filter(n -> n.table != null && refs.contains(n.table)).forEach(todo::add);
            Set<Node> keep = new HashSet<>();
            while (!todo.isEmpty()) {
                Node n = todo.poll();
                if (keep.add(n)) {
                    todo.addAll(n.needs);
                }
            }
            nodes.retainAll(keep);
        }

        /**
         * Kahn's algorithm, lowest (section, oid) first among the ready objects. An object needing something of
         * postData moves to postData itself (a function whose SQL body reads a view). A cycle (none known among
         * what is extracted) is broken at its lowest oid.
         */
        private SchemaScript sorted() {
            boolean moved = true;
            while (moved) {
                moved = false;
                for (Node n : nodes) {
                    if (!n.postData && n.needs.stream().anyMatch(d -> d.postData)) {
                        n.postData = true;
                        moved = true;
                    }
                }
            }
            Comparator<Node> order = Comparator.comparing((Node n) -> n.postData).thenComparingLong(n -> n.oid).thenComparingInt(n -> n.made);
            Map<Node, Integer> waiting = new HashMap<>();
            Map<Node, List<Node>> dependents = new HashMap<>();
            for (Node n : nodes) {
                waiting.put(n, n.needs.size());
                for (Node d : n.needs) {
                    dependents.computeIfAbsent(d, k -> new ArrayList<>()).add(n);
                }
            }
            PriorityQueue<Node> ready = new PriorityQueue<>(order);
            nodes.stream().filter(n -> n.needs.isEmpty()).forEach(ready::add);
            Set<Node> done = new LinkedHashSet<>();
            while (done.size() < nodes.size()) {
                Node next = ready.poll();
                if (next == null) {
                    next = nodes.stream().filter(n -> !done.contains(n)).min(order).orElseThrow();
                } else if (done.contains(next)) {
                    continue;
                }
                done.add(next);
                for (Node d : dependents.getOrDefault(next, List.of())) {
                    if (waiting.merge(d, -1, Integer::sum) == 0 && !done.contains(d)) {
                        ready.add(d);
                    }
                }
            }
            List<SchemaObject> pre = new ArrayList<>();
            List<SchemaObject> post = new ArrayList<>();
            for (Node n : done) {
                if (n.sql.isEmpty()) {
                    continue;
                }
                (n.postData ? post : pre).add(new SchemaObject(n.id, n.table, n.sql));
            }
            return new SchemaScript(pre, post);
        }

        // ---- helpers

        private Node node(String catalog, long oid, DbObject id, TableRef table, boolean postData) {
            Node n = new Node(oid, nodes.size(), id, table, postData);
            nodes.add(n);
            byKey.put(key(catalog, oid), n);
            return n;
        }

        private void alias(String catalog, long oid, Node n) {
            if (oid != 0) {
                byKey.putIfAbsent(key(catalog, oid), n);
            }
        }

        private static String key(String catalog, long oid) {
            return (catalog.startsWith("pg_catalog.") ? catalog.substring("pg_catalog.".length()) : catalog) + ":" + oid;
        }

        private static String name(Node n) {
            return Sql.table(n.id.schema(), n.id.name());
        }

        /** One array parameter of text (typed Object, so that varargs take it as one value). */
        private static Object texts(Collection<String> values) {
            return values.toArray(String[]::new);
        }

        /** One array parameter of oids. */
        private static Object oids(Collection<Long> values) {
            return values.toArray(Long[]::new);
        }

        /** Runs a catalog query, values bound: a String[] or Long[] as an array parameter, anything else as itself. */
        private void query(String sql, RowHandler handler, Object... args) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    Object a = args[i];
                    if (a instanceof String[] s) {
                        ps.setArray(i + 1, c.createArrayOf("text", s));
                    } else if (a instanceof Long[] l) {
                        ps.setArray(i + 1, c.createArrayOf("int8", l));
                    } else {
                        ps.setObject(i + 1, a);
                    }
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        handler.row(rs);
                    }
                }
            }
        }
    }
}
