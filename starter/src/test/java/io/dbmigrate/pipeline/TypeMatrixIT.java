package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every value of every type in the matrix survives both paths (Debezium snapshot and streaming) bit for bit,
 * compared as PostgreSQL text on both sides. Rows 1-6 travel through the snapshot, 101-106 through streaming
 * inserts, and rows 1-6 again through streaming updates.
 */
class TypeMatrixIT {
    static final String[] DDL = {
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
        "CREATE TYPE addr AS (street text, num int)",
        """
        CREATE TABLE types (
          id int PRIMARY KEY, n numeric, n2 numeric(12,2), f4 real, f8 double precision,
          ts timestamp, tstz timestamptz, d date, t time, iv interval,
          tx text, c char(5), vc varchar(10), b bytea, u uuid, jb jsonb, js json,
          a1 int[], a2 text[], a3 numeric[], e mood, dom posint, comp addr, r int4range, tr tstzrange,
          ip inet, net cidr, mac macaddr, bits bit(8), vbits varbit, m money, tsv tsvector, x xml, p point)"""
    };

    /** Each row: the values of columns n .. p, as SQL literals. */
    static final String[] ROWS = {
        "'NaN', 6.00, 'NaN', 'NaN', 'infinity', 'infinity', 'infinity', '24:00:00', '1 year 2 mons -3 days 04:05:06.789',"
            + " E'tab\\there \"quotes\" \\\\ back ünïcødé 🙂', 'ab', '', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
            + " '{\"b\": 1, \"a\": [1, 2.50]}', '{\"b\": 1,  \"a\": [1, 2], \"b\": 2}',"
            + " '{1,NULL,3}', '{{a,NULL},{\"c d\",e}}', '{1.50,NaN}', 'happy', 7, '(\"x, y\",5)', '[1,10)',"
            + " '[2020-01-01 00:00+00,infinity)', '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'00001111', B'0010',"
            + " '1234.56', 'a fat cat', '<a b=\"1\">t</a>', '(1.5,-2)'",
        "'Infinity', -0.01, 'Infinity', 'Infinity', '-infinity', '-infinity', '-infinity', '00:00:00', '-1 days',"
            + " '', 'abcde', 'x', '\\x', '00000000-0000-0000-0000-000000000000', '[]', '[]',"
            + " '{}', '{}', '{}', 'sad', 1, '(,)', 'empty', 'empty', '::1', '::/0', 'ff:ff:ff:ff:ff:ff', B'10000000', B'',"
            + " '-0.01', '', '<r/>', '(0,0)'",
        "'-Infinity', 9999999999.99, '-Infinity', '-0', '0044-03-15 12:34:56.789012 BC', '0044-03-15 12:34:56.789012+00 BC',"
            + " '0044-03-15 BC', '23:59:59.999999', '178000000 years', repeat('long text ', 500), NULL, NULL, NULL, NULL,"
            + " '{\"k\": \"\\u00e9\\n\"}', '{\"k\": \"\\u00e9\\n\"}', '{{1,2},{3,4}}', '{{{x}}}', NULL, 'ok', 2147483647,"
            + " '(\"\",0)', '(,5]', NULL, '2001:db8::1', '2001:db8::/32', '00:00:00:00:00:00', B'11111111', B'101010101010',"
            + " '0', 'the:1 quick:2,3 brown', NULL, '(1e-300,-1e+300)'",
        "'123456789012345678901234567890.123456789012345678901234567890', 0.00, 3.4028235e38, 1.7976931348623157e308,"
            + " '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00.000001+05:30', '2000-02-29', '12:00:00.000001', '0 secs',"
            + " 'NULL', ' ', '  ', '\\x5c', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', 'null',"
            + " '{-2147483648}', '{\"NULL\",\"\"}', '{-0.000}', 'sad', 3, NULL, '[-5,-1]', '(,)', '0.0.0.0/0', '0.0.0.0/0',"
            + " NULL, NULL, NULL, '92233720368547758.07', NULL, '<!-- c --><a/>', NULL",
        "1e-130, 1.005, 1.17549435e-38, 4.9e-324, '4713-01-01 00:00:00 BC', '294276-12-31 23:59:59.999999+00', '5874897-12-31',"
            + " '00:00:00.000001', '-178000000 years -11 mons', 'x', NULL, NULL, '\\xdeadbeef', NULL, '{\"a\": {\"b\": [null, true, false, 1e100]}}',"
            + " '  {\"ws\" : true}  ', NULL, NULL, NULL, NULL, NULL, NULL, '[-2147483648,2147483647)', NULL, NULL, NULL, NULL, NULL,"
            + " NULL, '-92233720368547758.08', NULL, NULL, NULL",
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            + " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    };

    static final String COLS = "n, n2, f4, f8, ts, tstz, d, t, iv, tx, c, vc, b, u, jb, js, a1, a2, a3, e, dom, comp, r, tr,"
            + " ip, net, mac, bits, vbits, m, tsv, x, p";

    @Test
    void everyValueSurvivesSnapshotAndStreaming() throws Exception {
        String db = "types";
        PipelineStack.freshDatabases(db);
        PipelineStack.exec(PipelineStack.source(db), DDL);
        PipelineStack.exec(PipelineStack.target(db), DDL);
        for (int i = 0; i < ROWS.length; i++) {
            PipelineStack.exec(PipelineStack.source(db), "INSERT INTO types (id, " + COLS + ") VALUES (" + (i + 1) + ", " + ROWS[i] + ")");
        }
        StreamSpec spec = PipelineStack.forward("types", db, List.of(new TableRef("public", "types")), true);
        PipelineStack.capture().prepare(spec);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            assertNull(a.failure());
            assertSameColumns(db, "snapshot");

            for (int i = 0; i < ROWS.length; i++) {
                PipelineStack.exec(PipelineStack.source(db), "INSERT INTO types (id, " + COLS + ") VALUES (" + (i + 101) + ", " + ROWS[i] + ")");
            }
            // streaming updates: rotate every row's values onto the next row
            for (int i = 0; i < ROWS.length; i++) {
                PipelineStack.exec(PipelineStack.source(db), "UPDATE types SET (" + COLS + ") = (SELECT " + COLS
                        + " FROM types WHERE id = " + (101 + (i + 1) % ROWS.length) + ") WHERE id = " + (i + 1));
            }
            StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            assertNull(a.failure(), () -> String.valueOf(a.failure()));
            assertSameColumns(db, "streaming");
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /** Column by column, so a difference names the type that lost it. */
    static void assertSameColumns(String db, String path) throws Exception {
        for (String col : ("id, " + COLS).split(",\\s*")) {
            String q = "(SELECT id, " + col + "::text AS v FROM types)";
            assertEquals(Compare.tableText(PipelineStack.source(db), q), Compare.tableText(PipelineStack.target(db), q),
                    path + ": column " + col + " differs");
        }
    }
}
