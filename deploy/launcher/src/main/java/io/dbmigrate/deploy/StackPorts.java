package io.dbmigrate.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Loopback ports of the local stack. Defaults sit away from 5432, 9092, 8083 and 7233 so a developer's own
 * PostgreSQL, Kafka, Connect or Temporal keeps running beside the stack.
 */
public record StackPorts(
        @JsonProperty("sourcePostgres") int sourcePostgres,
        @JsonProperty("targetPostgres") int targetPostgres,
        @JsonProperty("kafka") int kafka,
        @JsonProperty("kafkaController") int kafkaController,
        @JsonProperty("connect") int connect,
        @JsonProperty("temporal") int temporal,
        @JsonProperty("workerHttp") int workerHttp) {

    public static StackPorts defaults() {
        return new StackPorts(55432, 55433, 59092, 59093, 58083, 57233, 59464);
    }

    public StackPorts {
        for (int p : new int[] {sourcePostgres, targetPostgres, kafka, kafkaController, connect, temporal, workerHttp}) {
            if (p < 1024 || p > 65535) {
                throw new IllegalArgumentException("port " + p + " is outside 1024-65535");
            }
        }
    }
}
