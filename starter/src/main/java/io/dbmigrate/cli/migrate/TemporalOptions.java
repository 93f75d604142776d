package io.dbmigrate.cli.migrate;

import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.deploy.LocalStack;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How the CLI reaches Temporal: --temporal, else DBMIGRATE_TEMPORAL_TARGET, else the local stack's server. */
public final class TemporalOptions {
    @Mixin public StackOptions stack;

    @Option(names = "--temporal", paramLabel = "HOST:PORT", defaultValue = "${env:DBMIGRATE_TEMPORAL_TARGET}",
            description = "Temporal frontend (default: the local stack's).")
    String target;

    @Option(names = "--namespace", defaultValue = "${env:DBMIGRATE_TEMPORAL_NAMESPACE:-default}", description = "Default: ${DEFAULT-VALUE}")
    String namespace;

    private WorkflowClient client;

    public String target() {
        if (target != null && !target.isBlank()) {
            return target;
        }
        LocalStack s = stack.stack(null);
        return "127.0.0.1:" + s.context().ports().temporal();
    }

    public synchronized WorkflowClient client() {
        if (client == null) {
            client = connect(target(), namespace);
        }
        return client;
    }

    public static WorkflowClient connect(String target, String namespace) {
        WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
        return WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
    }

    public static String workflowId(String migrationId) {
        return migrationId.startsWith("migration-") ? migrationId : "migration-" + migrationId;
    }
}
