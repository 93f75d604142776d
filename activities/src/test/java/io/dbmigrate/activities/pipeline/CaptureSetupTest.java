package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

class CaptureSetupTest {
    private static final TableRef HOSTILE = new TableRef("we\"ird sch.ema", "Tab,le \"x\"; DROP");

    private static boolean matches(String regex, TableRef t) {
        return Pattern.compile(regex).matcher(t.schema() + "." + t.name()).matches();
    }

    @Test
    void tableRegexMatchesOnlyItsOwnTable() {
        String regex = CaptureSetup.tableRegex(HOSTILE);
        assertTrue(matches(regex, HOSTILE), regex);
        assertFalse(matches(regex, new TableRef("we\"ird sch.ema", "Tab,le \"y\"; DROP")), regex);
        assertFalse(matches(regex, new TableRef("we\"ird schXema", "Tab,le \"x\"; DROP")), regex);
        assertFalse(regex.contains(","), regex);
    }

    @Test
    void tableRegexKeepsPlainNamesReadable() {
        String regex = CaptureSetup.tableRegex(new TableRef("public", "items_2"));
        assertEquals("public\\.items_2", regex);
        assertFalse(matches(regex, new TableRef("public", "itemsX2")));
        assertFalse(matches(regex, new TableRef("publicX", "items_2")));
    }

    @Test
    void tableRegexHandlesNonAscii() {
        TableRef t = new TableRef("sch\u00e9ma", "t\uD83D\uDE00b");
        String regex = CaptureSetup.tableRegex(t);
        assertTrue(matches(regex, t), regex);
        assertFalse(matches(regex, new TableRef("schema", "t\uD83D\uDE00b")), regex);
    }

    private static ExecutionException unknown() {
        return new ExecutionException(new UnknownTopicOrPartitionException("This server does not host this topic-partition."));
    }

    /** CI saw it: create said "exists", the describe right after it said "unknown topic" (KRaft metadata lag). */
    @Test
    void describeRightAfterCreateWaitsForTheBrokersMetadata() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        int partitions = CaptureSetup.untilVisible("t", TimeUnit.SECONDS.toNanos(5), () -> {
            if (calls.incrementAndGet() < 3) {
                throw unknown();
            }
            return 1;
        });
        assertEquals(1, partitions);
        assertEquals(3, calls.get());
    }

    @Test
    void aTopicThatNeverAppearsStillFailsAndOtherErrorsFailAtOnce() {
        ExecutionException gone = assertThrows(ExecutionException.class,
                () -> CaptureSetup.untilVisible("t", TimeUnit.MILLISECONDS.toNanos(300), () -> {
                    throw unknown();
                }));
        assertTrue(gone.getCause() instanceof UnknownTopicOrPartitionException);
        AtomicInteger calls = new AtomicInteger();
        ExecutionException other = new ExecutionException(new IllegalStateException("auth"));
        assertSame(other, assertThrows(ExecutionException.class,
                () -> CaptureSetup.untilVisible("t", TimeUnit.SECONDS.toNanos(5), () -> {
                    calls.incrementAndGet();
                    throw other;
                })));
        assertEquals(1, calls.get());
    }

    @Test
    void overrideKey() {
        assertEquals("public.items", CaptureSetup.overrideKey(new TableRef("public", "items")));
        assertEquals("\"we\"\"ird sch.ema\".\"t\"", CaptureSetup.overrideKey(new TableRef("we\"ird sch.ema", "t")));
        assertEquals("\"public\".\"a.b\"", CaptureSetup.overrideKey(new TableRef("public", "a.b")));
        assertNull(CaptureSetup.overrideKey(HOSTILE));
        assertNull(CaptureSetup.overrideKey(new TableRef("s,x", "t")));
    }

    private static StreamSpec spec(boolean snapshot) {
        Endpoint from = new Endpoint("src.example", 55432, "basic", "postgres", "file:/tmp/x/pw");
        Endpoint to = new Endpoint("dst.example", 55433, "basic", "postgres", "env:TARGET_PW");
        return new StreamSpec("basic", StreamSpec.Direction.FORWARD, from, to, List.of(new TableRef("public", "items")), snapshot);
    }

    private static Map<TableRef, List<String>> columns() {
        Map<TableRef, List<String>> columns = new LinkedHashMap<>();
        columns.put(new TableRef("public", "items"), List.of("id", "name", "we\"ird col"));
        columns.put(HOSTILE, List.of("id"));
        return columns;
    }

    @Test
    void connectorConfig() {
        Map<String, String> c = CaptureSetup.connectorConfig(spec(true), columns());
        assertEquals("${dir:/tmp/x:pw}", c.get("database.password"));
        assertEquals("src.example", c.get("database.hostname"));
        assertEquals("55432", c.get("database.port"));
        assertEquals("basic", c.get("database.dbname"));
        assertEquals("dbmigrate_basic", c.get("slot.name"));
        assertEquals("dbmigrate_basic", c.get("publication.name"));
        assertEquals("dbmigrate_basic", c.get("topic.prefix"));
        assertEquals("true", c.get("provide.transaction.metadata"));
        assertEquals(".*", c.get("message.prefix.exclude.list"), "logical decoding messages are neither sent nor counted in END");
        assertEquals("pgtext", c.get("converters"));
        assertEquals("io.dbmigrate.connect.PgTextConverter", c.get("pgtext.type"));
        assertEquals("io.dbmigrate.connect.OneTopicNamingStrategy", c.get("topic.naming.strategy"));
        assertEquals("dbmigrate_basic.changes", c.get("dbmigrate.topic"));
        assertEquals("dropBegin", c.get("transforms"));
        assertEquals("fail", c.get("event.converting.failure.handling.mode"));
        assertEquals("true", c.get("include.unknown.datatypes"));
        assertEquals("initial", c.get("snapshot.mode"));
        assertEquals("disabled", c.get("publication.autocreate.mode"));
        assertEquals("SELECT \"id\"::text AS \"id\", \"name\"::text AS \"name\", \"we\"\"ird col\"::text AS \"we\"\"ird col\""
                + " FROM \"public\".\"items\"", c.get("snapshot.select.statement.overrides.public.items"));
        // the hostile table has a comma, so it cannot be listed; the include list still captures it
        assertEquals("public.items", c.get("snapshot.select.statement.overrides"));
        assertEquals("public\\.items," + CaptureSetup.tableRegex(HOSTILE) + ",dbmigrate_basic\\.heartbeat",
                c.get("table.include.list"));
        assertEquals("UPDATE \"dbmigrate_basic\".\"heartbeat\" SET beat = beat + 1, at = now() WHERE id = 1",
                c.get("heartbeat.action.query"));
    }

    /** limits.maxRecordBytes: the producer refuses a larger record, batches and the buffer follow it (default 64 MiB). */
    @Test
    void everyProducerLimitFollowsTheRecordLimit() {
        Map<String, String> d = CaptureSetup.connectorConfig(spec(true), columns());
        assertEquals(Long.toString(64L << 20), d.get("producer.override.max.request.size"));
        assertEquals(Long.toString(128L << 20), d.get("producer.override.buffer.memory"));
        assertEquals(Long.toString(1L << 20), d.get("producer.override.batch.size"));
        StreamSpec s = spec(true);
        StreamSpec small = new StreamSpec(s.migrationId(), s.direction(), s.from(), s.to(), s.tables(), true, 256L * 1024);
        Map<String, String> c = CaptureSetup.connectorConfig(small, columns());
        assertEquals(Long.toString(256L * 1024), c.get("producer.override.max.request.size"));
        assertEquals(Long.toString(256L * 1024), c.get("producer.override.batch.size"), "a batch never outgrows the topic's limit");
        assertEquals(Long.toString(32L << 20), c.get("producer.override.buffer.memory"));
    }

    @Test
    void connectorConfigWithoutSnapshot() {
        assertEquals("no_data", CaptureSetup.connectorConfig(spec(false), columns()).get("snapshot.mode"));
    }

    @Test
    void connectorConfigHoldsNoPassword() {
        Map<String, String> c = CaptureSetup.connectorConfig(spec(true), columns());
        for (Map.Entry<String, String> e : c.entrySet()) {
            assertFalse(e.getValue().contains("/tmp/x/pw"), e.getKey());
            assertFalse(e.getValue().contains("TARGET_PW"), e.getKey());
        }
    }
}
