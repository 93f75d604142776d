package io.dbmigrate.connect;

import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Drops Debezium's transaction BEGIN records. dbmigrate's applier needs only a transaction's END (its commit LSN
 * and event count) and each change's place in its transaction (total_order, which restarts at 1 when Debezium sends
 * a transaction again): a BEGIN adds nothing, yet for single-row transactions it was a third of the records Connect
 * converted and Kafka stored. END records and every change pass unchanged.
 */
public final class DropTransactionBegin<R extends ConnectRecord<R>> implements Transformation<R> {

    @Override
    public R apply(R record) {
        return isBegin(record.value()) ? null : record;
    }

    static boolean isBegin(Object value) {
        if (!(value instanceof Struct s) || s.schema().field("status") == null || s.schema().field("event_count") == null) {
            return false;
        }
        return "BEGIN".equals(s.get("status"));
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef();
    }

    @Override
    public void configure(Map<String, ?> configs) {
        // nothing to configure
    }

    @Override
    public void close() {
        // nothing held
    }
}
