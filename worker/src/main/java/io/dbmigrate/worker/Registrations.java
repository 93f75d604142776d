package io.dbmigrate.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.dbmigrate.activities.impl.PipelineActivitiesImpl;
import io.dbmigrate.activities.impl.MigrationActivitiesImpl;
import io.dbmigrate.workflows.workflow.MigrationWorkflowImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;

/** The one place where workflow types and activity implementations are registered on the worker. */
final class Registrations {
    private Registrations() {}

    static void register(Worker worker, WorkflowClient client, WorkerConfig config, MeterRegistry registry) {
        worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
        worker.registerActivitiesImplementations(
                new PipelineActivitiesImpl(config.kafkaBootstrap(), config.connectUrl(), registry),
                new MigrationActivitiesImpl(client, config.kafkaBootstrap(), config.reportDir(), java.util.function.UnaryOperator.identity()));
    }
}
