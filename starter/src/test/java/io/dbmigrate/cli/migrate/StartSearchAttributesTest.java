package io.dbmigrate.cli.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbmigrate.cli.migrate.MigrationCommands.SearchAttributeMode;
import io.dbmigrate.workflows.model.Endpoint;
import io.dbmigrate.workflows.model.MigrationPlan;
import io.dbmigrate.workflows.workflow.SearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestWorkflowEnvironment;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesResponse;
import io.temporal.api.operatorservice.v1.OperatorServiceGrpc;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** `start` sets dbmigrate's search attributes where the namespace has them registered (ListSearchAttributes), or when asked. */
class StartSearchAttributesTest {
    private TestWorkflowEnvironment env;

    private WorkflowClient client(String... registered) {
        env = TestWorkflowEnvironment.newInstance();
        for (String name : registered) {
            env.registerSearchAttribute(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
        }
        env.start();
        return env.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        if (env != null) {
            env.close();
        }
    }

    private static MigrationPlan plan(String id) {
        return new MigrationPlan(id, new Endpoint("src.internal", 5432, "db", "u", "env:X"),
                new Endpoint("dst.internal", 5432, "db", "u", "env:Y"), List.of("public"), null, null, "manual", null, null, null);
    }

    private static io.temporal.common.SearchAttributes described(WorkflowClient client, MigrationPlan plan) {
        return client.newUntypedWorkflowStub(plan.workflowId()).describe().getTypedSearchAttributes();
    }

    /** A stand-in operator service answering ListSearchAttributes (the test server does not implement it). */
    private static boolean registeredPerOperatorService(Map<String, IndexedValueType> custom) throws Exception {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new OperatorServiceGrpc.OperatorServiceImplBase() {
                    @Override
                    public void listSearchAttributes(ListSearchAttributesRequest request,
                            StreamObserver<ListSearchAttributesResponse> response) {
                        assertEquals("default", request.getNamespace());
                        response.onNext(ListSearchAttributesResponse.newBuilder().putAllCustomAttributes(custom).build());
                        response.onCompleted();
                    }
                }).build().start();
        WorkflowClient client = TemporalOptions.connect("127.0.0.1:" + server.getPort(), "default", java.util.Optional.empty());
        try {
            return MigrationCommands.searchAttributesRegistered(client);
        } finally {
            client.getWorkflowServiceStubs().shutdownNow();
            server.shutdownNow();
        }
    }

    @Test
    void registeredMeansAllFourAsKeyword() throws Exception {
        Map<String, IndexedValueType> all = new java.util.HashMap<>();
        SearchAttributes.ALL.forEach(k -> all.put(k.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD));
        all.put("CustomerTier", IndexedValueType.INDEXED_VALUE_TYPE_INT);
        assertTrue(registeredPerOperatorService(all));
        Map<String, IndexedValueType> three = new java.util.HashMap<>(all);
        three.remove("TargetHost");
        assertFalse(registeredPerOperatorService(three));
        Map<String, IndexedValueType> text = new java.util.HashMap<>(all);
        text.put("MigrationId", IndexedValueType.INDEXED_VALUE_TYPE_TEXT);
        assertFalse(registeredPerOperatorService(text), "a Text MigrationId cannot take the workflow's Keyword upsert");
    }

    /** Temporal's test server has no ListSearchAttributes (UNIMPLEMENTED): counted as not registered. */
    @Test
    void aServerThatCannotListCountsAsNotRegistered() {
        WorkflowClient client = client(SearchAttributes.ALL.stream().map(k -> k.getName()).toArray(String[]::new));
        assertFalse(MigrationCommands.searchAttributesRegistered(client));
        assertFalse(MigrationCommands.startMigration(client, plan("unlisted"), SearchAttributeMode.auto));
        assertNull(described(client, plan("unlisted")).get(SearchAttributes.MIGRATION_ID));
    }

    @Test
    void alwaysSetsThemAtStart() {
        WorkflowClient client = client(SearchAttributes.ALL.stream().map(k -> k.getName()).toArray(String[]::new));
        MigrationPlan plan = plan("registered");
        assertTrue(MigrationCommands.startMigration(client, plan, SearchAttributeMode.always));
        var attributes = described(client, plan);
        assertEquals("registered", attributes.get(SearchAttributes.MIGRATION_ID));
        assertEquals("preflight", attributes.get(SearchAttributes.MIGRATION_PHASE));
        assertEquals("src.internal", attributes.get(SearchAttributes.SOURCE_HOST));
        assertEquals("dst.internal", attributes.get(SearchAttributes.TARGET_HOST));
    }

    @Test
    void alwaysIsRefusedWhereOneIsMissing() {
        WorkflowClient client = client("MigrationId", "MigrationPhase", "SourceHost");
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> MigrationCommands.startMigration(client, plan("forced"), SearchAttributeMode.always));
        assertTrue(String.valueOf(e.getMessage()).contains("TargetHost") || String.valueOf(e.getCause()).contains("TargetHost"),
                () -> "the refusal names the missing attribute: " + e);
    }
}
