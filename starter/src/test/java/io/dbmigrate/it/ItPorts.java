package io.dbmigrate.it;

import io.dbmigrate.deploy.StackPorts;

/**
 * The integration tests' port blocks (TwoClusters 20xxx, ValidationResumeIT 22xxx, PgBouncerIT 23xxx, SnapshotBenchIT 24xxx, StackIT 26xxx, DemoIT 27xxx,
 * PipelineStack 28xxx, FaultsIT 29xxx, EmbeddedStackIT 30xxx, SchemaCoverageIT 31xxx, MonitoringIT 32xxx), below
 * the kernel's ephemeral range (32768 and up on Linux: a 33xxx port could be taken by any outgoing connection) and away
 * from the default stack (25xxx).
 * {@code -Ddbmigrate.it.blockShift=N} moves every block by N and {@code -Ddbmigrate.it.portOffset=500} moves every port
 * within its block, so a second checkout can run its integration tests beside the first without sharing a port.
 */
public final class ItPorts {
    private ItPorts() {}

    public static StackPorts block(int prefix) {
        StackPorts p = StackPorts.block(prefix + Integer.getInteger("dbmigrate.it.blockShift", 0));
        int o = Integer.getInteger("dbmigrate.it.portOffset", 0);
        return new StackPorts(p.sourcePostgres() + o, p.targetPostgres() + o, p.kafka() + o, p.kafkaController() + o,
                p.connect() + o, p.temporal() + o, p.workerHttp() + o, p.pgbouncer() + o, p.prometheus() + o, p.connectMetrics() + o);
    }
}
