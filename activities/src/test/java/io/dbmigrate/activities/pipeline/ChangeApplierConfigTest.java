package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

class ChangeApplierConfigTest {
    private static Properties props() {
        Endpoint from = new Endpoint("src.example", 55432, "shop", "postgres", "env:SRC_PW");
        Endpoint to = new Endpoint("dst.example", 55433, "shop", "postgres", "env:DST_PW");
        StreamSpec spec = new StreamSpec("m1", StreamSpec.Direction.FORWARD, from, to, List.of(new TableRef("public", "t")), false);
        return new ChangeApplier(spec, "127.0.0.1:9092", new SimpleMeterRegistry()).consumerProps();
    }

    /** The position is the target's; a consumer group would only add a coordinator round to every poll. */
    @Test
    void joinsNoConsumerGroupAndCommitsNothingToKafka() {
        Properties p = props();
        assertFalse(p.containsKey(ConsumerConfig.GROUP_ID_CONFIG), p.toString());
        assertEquals("false", p.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        assertEquals("dbmigrate_m1-applier", p.get(ConsumerConfig.CLIENT_ID_CONFIG));
    }
}
