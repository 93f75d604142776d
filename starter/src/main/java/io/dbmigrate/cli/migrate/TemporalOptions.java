package io.dbmigrate.cli.migrate;

import io.dbmigrate.cli.StackOptions;
import io.dbmigrate.deploy.LocalStack;
import io.dbmigrate.deploy.StackContext;
import io.dbmigrate.worker.WorkerConfig;
import io.dbmigrate.workflows.codec.CodecKeys;
import io.dbmigrate.workflows.codec.Codecs;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How the CLI reaches Temporal: --temporal, else DBMIGRATE_TEMPORAL_TARGET, else the local stack's server; and with
 * which payload codec keys (the worker's, so plans, statuses and errors are encrypted in history both ways).
 */
public final class TemporalOptions {
    @Mixin public StackOptions stack;

    @Option(names = "--temporal", paramLabel = "HOST:PORT", defaultValue = "${env:DBMIGRATE_TEMPORAL_TARGET}",
            description = "Temporal frontend (default: the local stack's).")
    String target;

    @Option(names = "--namespace", defaultValue = "${env:DBMIGRATE_TEMPORAL_NAMESPACE:-default}", description = "Default: ${DEFAULT-VALUE}")
    String namespace;

    @Option(names = "--codec-key", paramLabel = "REF", defaultValue = "${env:DBMIGRATE_CODEC_KEY}",
            description = "The payload codec's keys as env:NAME or file:PATH, the same secret the worker reads "
                    + "(default: DBMIGRATE_CODEC_KEY, else the local stack's key file when talking to the local stack).")
    String codecKey;

    private WorkflowClient client;
    private Optional<CodecKeys> keys;

    /**
     * The codec's keys: --codec-key, else DBMIGRATE_CODEC_KEY, else the local stack's when no --temporal is given;
     * read once (the client and `history` both need them).
     */
    public synchronized Optional<CodecKeys> codecKeys() {
        if (keys == null) {
            if (codecKey != null && !codecKey.isBlank()) {
                keys = Optional.of(WorkerConfig.codecKeys("--codec-key", codecKey, System.getenv()));
            } else if (target == null || target.isBlank()) {
                keys = localStackKeys(stack.stack(null).context());
            } else {
                keys = Optional.empty();
            }
        }
        return keys;
    }

    /** The key the local stack gave its worker, if it gave one (a stack brought up before the codec has none). */
    public static Optional<CodecKeys> localStackKeys(StackContext ctx) {
        Path f = ctx.codecKeyFile();
        return Files.exists(f)
                ? Optional.of(WorkerConfig.codecKeys("the local stack's codec key", "file:" + f, Map.of()))
                : Optional.empty();
    }

    public String target() {
        if (target != null && !target.isBlank()) {
            return target;
        }
        LocalStack s = stack.stack(null);
        return "127.0.0.1:" + s.context().ports().temporal();
    }

    public synchronized WorkflowClient client() {
        if (client == null) {
            client = connect(target(), namespace, codecKeys());
        }
        return client;
    }

    /** With {@code keys}, the codec is installed: what the client sends is encrypted, what it reads decrypted. */
    public static WorkflowClient connect(String target, String namespace, Optional<CodecKeys> keys) {
        WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
        return WorkflowClient.newInstance(service,
                Codecs.install(WorkflowClientOptions.newBuilder().setNamespace(namespace), keys).build());
    }

    public static String workflowId(String migrationId) {
        return migrationId.startsWith("migration-") ? migrationId : "migration-" + migrationId;
    }
}
