package io.dbmigrate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.dbmigrate.activities.pipeline.StreamMonitor;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BasicStreamIT {
    @Test
    void snapshotThenStreamThenDrain() throws Exception {
        String db = "basic";
        PipelineStack.freshDatabases(db);
        String ddl = "CREATE TABLE public.items (id bigint PRIMARY KEY, name text, qty int)";
        PipelineStack.exec(PipelineStack.source(db), ddl, "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 100) g");
        PipelineStack.exec(PipelineStack.target(db), ddl);
        StreamSpec spec = PipelineStack.forward("basic", db, List.of(new TableRef("public", "items")), true);
        PipelineStack.capture().prepare(spec);
        try (ApplierThread a = new ApplierThread(spec)) {
            StreamMonitor.awaitStreaming(spec, Duration.ofSeconds(90));
            assertEquals(Compare.tableText(PipelineStack.source(db), "public.items"), Compare.tableText(PipelineStack.target(db), "public.items"));
            PipelineStack.exec(PipelineStack.source(db), "INSERT INTO items VALUES (1000, 'new', 1)",
                    "UPDATE items SET qty = qty + 1 WHERE id <= 10", "DELETE FROM items WHERE id = 50");
            String applied = StreamMonitor.drain(spec, null, Duration.ofSeconds(60), s -> {});
            assertNull(a.failure());
            assertEquals(Compare.tableText(PipelineStack.source(db), "public.items"), Compare.tableText(PipelineStack.target(db), "public.items"));
            System.out.println("drained to " + applied + " " + a.applier().progress());
            assertEquals(100, a.applier().progress().snapshotRows());
            assertTrue(a.applier().progress().changes() >= 103, a.applier().progress().toString());

            // the topic carries END records but no BEGIN records (DropTransactionBegin, running in the real Connect)
            Map<String, Integer> statuses = transactionRecords(spec.topic());
            assertTrue(statuses.getOrDefault("END", 0) >= 3, statuses.toString());
            assertEquals(0, statuses.getOrDefault("BEGIN", 0), statuses.toString());

            // the lag hops account for each applied transaction and add up to the end-to-end lag
            ChangeApplier.LagTimers hops = a.applier().lagHops();
            long transactions = a.applier().lagTimer().count();
            assertTrue(transactions >= 3, "transactions " + transactions);
            for (Timer hop : List.of(hops.capture(), hops.delivery(), hops.apply())) {
                assertEquals(transactions, hop.count(), hop.getId().getName());
            }
            double sum = hops.capture().totalTime(TimeUnit.MILLISECONDS) + hops.delivery().totalTime(TimeUnit.MILLISECONDS)
                    + hops.apply().totalTime(TimeUnit.MILLISECONDS);
            double total = a.applier().lagTimer().totalTime(TimeUnit.MILLISECONDS);
            // hops use the Kafka record time (whole milliseconds): at most 1 ms per transaction apart
            assertTrue(Math.abs(sum - total) <= transactions * 1.0 + 1, "hops " + sum + " ms vs total " + total + " ms");
        } finally {
            PipelineStack.capture().teardown(spec);
        }
        PipelineStack.assertNoLeftovers(db);
    }

    /** Count of transaction records by status in the whole topic. */
    private static Map<String, Integer> transactionRecords(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, PipelineStack.bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Map<String, Integer> counts = new TreeMap<>();
        try (KafkaConsumer<byte[], String> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            while (c.position(tp) < end) {
                for (ConsumerRecord<byte[], String> r : c.poll(Duration.ofMillis(500))) {
                    if (r.value() != null && r.value().startsWith("{\"status\":")) {
                        counts.merge(r.value().substring(11, r.value().indexOf('"', 11)), 1, Integer::sum);
                    }
                }
            }
        }
        return counts;
    }
}
