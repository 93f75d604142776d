package io.dbmigrate.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.dbmigrate.activities.impl.PipelineActivitiesImpl;
import io.temporal.worker.Worker;

/** The one place where workflow types and activity implementations are registered on the worker. */
final class Registrations {
    private Registrations() {}

    static void register(Worker worker, WorkerConfig config, MeterRegistry registry) {
        worker.registerActivitiesImplementations(
                new PipelineActivitiesImpl(config.kafkaBootstrap(), config.connectUrl(), registry));
    }
}
