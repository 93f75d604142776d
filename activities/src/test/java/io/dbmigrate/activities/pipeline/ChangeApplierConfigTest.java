package io.dbmigrate.activities.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.StreamSpec;
import io.dbmigrate.workflows.model.TableRef;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
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

    /**
     * The applier's session is bounded: the server cancels a statement after 100 s, before the client gives up on a
     * silent socket (120 s); a session whose client is gone ends on its own (idle in a transaction 60 s, keepalive).
     */
    @Test
    void theApplierSessionIsBounded() {
        Map<String, String> o = ChangeApplier.connectionOptions();
        assertEquals("true", o.get("reWriteBatchedInserts"));
        assertEquals("120", o.get("socketTimeout"));
        assertEquals("-c statement_timeout=100000ms -c idle_in_transaction_session_timeout=60000ms -c tcp_keepalives_idle=30"
                + " -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3", o.get("options"));
        assertTrue(ChangeApplier.SOCKET_TIMEOUT.compareTo(ChangeApplier.STATEMENT_TIMEOUT) > 0);
    }

    /**
     * After a doubt over a commit, the group is applied again only if the stored position is still the one before it;
     * at the group's end it landed; anywhere else another writer moved it.
     */
    @Test
    void aGroupInDoubtIsDecidedByTheStoredPosition() {
        assertEquals(ChangeApplier.Settled.NOT_APPLIED, ChangeApplier.settle(41, 57, 41));
        assertEquals(ChangeApplier.Settled.APPLIED, ChangeApplier.settle(41, 57, 57));
        assertEquals(ChangeApplier.Settled.MOVED, ChangeApplier.settle(41, 57, 50));
        assertEquals(ChangeApplier.Settled.MOVED, ChangeApplier.settle(41, 57, 90));
        // the row was removed (a new capture forgot it): stored reads as the initial position
        assertEquals(ChangeApplier.Settled.MOVED, ChangeApplier.settle(41, 57, -1));
        // the very first group: no row before, none after
        assertEquals(ChangeApplier.Settled.NOT_APPLIED, ChangeApplier.settle(-1, 3, -1));
        assertEquals(ChangeApplier.Settled.APPLIED, ChangeApplier.settle(-1, 3, 3));
    }
}
