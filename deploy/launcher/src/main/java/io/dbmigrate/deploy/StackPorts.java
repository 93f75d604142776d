package io.dbmigrate.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Loopback ports of the local stack.
 *
 * <p>Defaults lie in 25000-25999, below the kernel's ephemeral range (32768-60999 on Linux by default), where any
 * outgoing connection of any process may hold a port at any moment; and below 30000, Kubernetes' NodePort range.
 * Each keeps the last digits of its usual port (25432 for PostgreSQL's 5432, 25092 for Kafka's 9092, ...) so it is
 * easy to recognise, while a developer's own PostgreSQL, Kafka, Connect or Temporal on the usual ports keeps running
 * beside the stack. PgBouncer, whose usual port 6432 ends like PostgreSQL's, takes ..643; Prometheus (9090) ..090, and the JMX
 * exporter agent in Connect's JVM, which has no usual port, ..085 beside Connect's ..083. The integration tests use the same scheme in blocks of their own (26xxx, 27xxx, 28xxx).
 */
public record StackPorts(
        @JsonProperty("sourcePostgres") int sourcePostgres,
        @JsonProperty("targetPostgres") int targetPostgres,
        @JsonProperty("kafka") int kafka,
        @JsonProperty("kafkaController") int kafkaController,
        @JsonProperty("connect") int connect,
        @JsonProperty("temporal") int temporal,
        @JsonProperty("workerHttp") int workerHttp,
        @JsonProperty("pgbouncer") int pgbouncer,
        @JsonProperty("prometheus") int prometheus,
        @JsonProperty("connectMetrics") int connectMetrics) {

    // The names of `stack up`'s options. They live here so the launcher's messages name the option that changes a
    // port, and the CLI declares its options with these same constants.
    public static final String SOURCE_PG_OPTION = "--source-pg-port";
    public static final String TARGET_PG_OPTION = "--target-pg-port";
    public static final String KAFKA_OPTION = "--kafka-port";
    public static final String KAFKA_CONTROLLER_OPTION = "--kafka-controller-port";
    public static final String CONNECT_OPTION = "--connect-port";
    public static final String TEMPORAL_OPTION = "--temporal-port";
    public static final String WORKER_OPTION = "--worker-port";
    public static final String PGBOUNCER_OPTION = "--pgbouncer-port";
    public static final String PROMETHEUS_OPTION = "--prometheus-port";
    public static final String CONNECT_METRICS_OPTION = "--connect-metrics-port";
    private static final int PGBOUNCER_IN_BLOCK = 643;
    private static final int PROMETHEUS_IN_BLOCK = 90;
    private static final int CONNECT_METRICS_IN_BLOCK = 85;

    /** One port of the stack: which component listens on it and which option of {@code stack up} sets it. */
    public record Assignment(String component, String option, int port) {}

    public static StackPorts defaults() {
        return block(25);
    }

    /**
     * The stack's ports in the 1000-port block {@code prefix * 1000}: PostgreSQL ..432 and ..433, Kafka ..092
     * (controller ..093), Connect ..083 (its metrics ..085), Temporal ..233, worker ..464, PgBouncer ..643,
     * Prometheus ..090.
     */
    public static StackPorts block(int prefix) {
        int base = prefix * 1000;
        return new StackPorts(base + 432, base + 433, base + 92, base + 93, base + 83, base + 233, base + 464,
                base + PGBOUNCER_IN_BLOCK, base + PROMETHEUS_IN_BLOCK, base + CONNECT_METRICS_IN_BLOCK);
    }

    /** The ports without Prometheus's and Connect's metrics port, which then take ..090 and ..085 in the source's block. */
    public StackPorts(int sourcePostgres, int targetPostgres, int kafka, int kafkaController, int connect, int temporal,
            int workerHttp, int pgbouncer) {
        this(sourcePostgres, targetPostgres, kafka, kafkaController, connect, temporal, workerHttp, pgbouncer, 0, 0);
    }

    /** The ports without PgBouncer's, which then takes ..643 in the source PostgreSQL's block. */
    public StackPorts(int sourcePostgres, int targetPostgres, int kafka, int kafkaController, int connect, int temporal,
            int workerHttp) {
        this(sourcePostgres, targetPostgres, kafka, kafkaController, connect, temporal, workerHttp, 0, 0, 0);
    }

    public StackPorts {
        // a state file written before PgBouncer or monitoring joined the stack has no such field: same block as the source
        int base = sourcePostgres - sourcePostgres % 1000;
        if (pgbouncer == 0) {
            pgbouncer = base + PGBOUNCER_IN_BLOCK;
        }
        if (prometheus == 0) {
            prometheus = base + PROMETHEUS_IN_BLOCK;
        }
        if (connectMetrics == 0) {
            connectMetrics = base + CONNECT_METRICS_IN_BLOCK;
        }
        for (int p : new int[] {sourcePostgres, targetPostgres, kafka, kafkaController, connect, temporal, workerHttp, pgbouncer,
                prometheus, connectMetrics}) {
            if (p < 1024 || p > 65535) {
                throw new IllegalArgumentException("port " + p + " is outside 1024-65535");
            }
        }
    }

    /** Every port with its component and option; the component names are those of {@link LocalStack#components()}. */
    public List<Assignment> assignments() {
        return List.of(
                new Assignment("source-postgres", SOURCE_PG_OPTION, sourcePostgres),
                new Assignment("target-postgres", TARGET_PG_OPTION, targetPostgres),
                new Assignment("kafka", KAFKA_OPTION, kafka),
                new Assignment("kafka", KAFKA_CONTROLLER_OPTION, kafkaController),
                new Assignment("connect", CONNECT_OPTION, connect),
                new Assignment("temporal", TEMPORAL_OPTION, temporal),
                new Assignment("worker", WORKER_OPTION, workerHttp),
                new Assignment("pgbouncer", PGBOUNCER_OPTION, pgbouncer),
                new Assignment("prometheus", PROMETHEUS_OPTION, prometheus),
                new Assignment("connect", CONNECT_METRICS_OPTION, connectMetrics));
    }

    /** The same ports as command-line arguments of {@code stack up}. */
    public List<String> asOptions() {
        return assignments().stream().flatMap(a -> java.util.stream.Stream.of(a.option(), Integer.toString(a.port()))).toList();
    }
}
