package io.dbmigrate.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.debezium.relational.TableId;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class OneTopicNamingStrategyTest {
    private static Properties props(String topic) {
        Properties p = new Properties();
        p.setProperty("topic.prefix", "dbmigrate_m1");
        if (topic != null) {
            p.setProperty(OneTopicNamingStrategy.TOPIC, topic);
        }
        return p;
    }

    @Test
    void everyRecordGoesToTheOneTopic() {
        OneTopicNamingStrategy s = new OneTopicNamingStrategy(props("dbmigrate_m1.changes"));
        TableId orders = new TableId(null, "public", "orders");
        TableId hostile = new TableId(null, "we\"ird sch.ema", "Tab,le \"x\"; DROP");
        assertEquals("dbmigrate_m1.changes", s.dataChangeTopic(orders));
        assertEquals("dbmigrate_m1.changes", s.dataChangeTopic(hostile));
        assertEquals("dbmigrate_m1.changes", s.transactionTopic());
        assertEquals("dbmigrate_m1.changes", s.heartbeatTopic());
    }

    @Test
    void schemaNamesStayPerTable() {
        OneTopicNamingStrategy s = new OneTopicNamingStrategy(props("dbmigrate_m1.changes"));
        String orders = s.recordSchemaPrefix(new TableId(null, "public", "orders"));
        String items = s.recordSchemaPrefix(new TableId(null, "public", "items"));
        assertNotEquals(orders, items);
        assertTrue(orders.startsWith("dbmigrate_m1."), orders);
    }

    @Test
    void refusesToRunWithoutItsTopic() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OneTopicNamingStrategy(props(null)));
        assertTrue(e.getMessage().contains(OneTopicNamingStrategy.TOPIC), e.getMessage());
    }
}
