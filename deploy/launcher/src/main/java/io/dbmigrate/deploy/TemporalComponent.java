package io.dbmigrate.deploy;

import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoResponse;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Temporal's standalone test server: in-memory, one process, the real gRPC API (no visibility queries). */
public final class TemporalComponent extends JavaComponent {
    public TemporalComponent(StackContext ctx) {
        super("temporal", ctx);
    }

    @Override
    public String address() {
        return "127.0.0.1:" + ctx.ports().temporal();
    }

    @Override
    protected String classpath() {
        return ChildProcess.classpathOf(ctx.layout().temporalLib());
    }

    @Override
    protected String mainClass() {
        return "io.temporal.testserver.TestServer";
    }

    @Override
    protected List<String> jvmOptions() {
        return List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC");
    }

    @Override
    protected List<String> arguments() {
        return List.of(Integer.toString(ctx.ports().temporal()));
    }

    @Override
    protected List<Integer> ports() {
        return List.of(ctx.ports().temporal());
    }

    @Override
    protected String probe() {
        WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                .setTarget(address())
                .setRpcTimeout(Duration.ofSeconds(3))
                .build());
        try {
            GetSystemInfoResponse info = stubs.blockingStub().withDeadlineAfter(3, TimeUnit.SECONDS)
                    .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
            return "GetSystemInfo ok" + (info.getServerVersion().isEmpty() ? "" : ", server " + info.getServerVersion());
        } finally {
            stubs.shutdownNow();
        }
    }
}
