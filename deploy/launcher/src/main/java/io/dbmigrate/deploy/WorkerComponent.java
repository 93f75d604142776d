package io.dbmigrate.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The dbmigrate worker: polls its Temporal task queue and serves /health and /metrics. */
public final class WorkerComponent extends JavaComponent {
    public static final String MAIN_CLASS = "io.dbmigrate.worker.WorkerMain";

    private final String classpath;

    public WorkerComponent(StackContext ctx, String classpath) {
        super("worker", ctx);
        this.classpath = classpath;
    }

    @Override
    public String address() {
        return "http://127.0.0.1:" + ctx.ports().workerHttp();
    }

    @Override
    protected String classpath() {
        return classpath;
    }

    @Override
    protected String mainClass() {
        return MAIN_CLASS;
    }

    @Override
    protected List<String> jvmOptions() {
        List<String> options = new ArrayList<>(List.of("-Xms128m", "-Xmx1g"));
        options.addAll(LOW_PAUSE_GC);
        return options;
    }

    @Override
    protected List<String> arguments() {
        return List.of();
    }

    @Override
    protected Map<String, String> environment() {
        return Map.of(
                "DBMIGRATE_TEMPORAL_TARGET", "127.0.0.1:" + ctx.ports().temporal(),
                "DBMIGRATE_HTTP_PORT", Integer.toString(ctx.ports().workerHttp()),
                "DBMIGRATE_KAFKA_BOOTSTRAP", "127.0.0.1:" + ctx.ports().kafka(),
                "DBMIGRATE_CONNECT_URL", "http://127.0.0.1:" + ctx.ports().connect(),
                // the stack runs Temporal's test server, which never redispatches from a dead worker's sticky queue
                "DBMIGRATE_STICKY_EXECUTION", "false",
                // the demo runs encrypted: the CLI reads the same file (TemporalOptions)
                "DBMIGRATE_CODEC_KEY", "file:" + ctx.codecKey(),
                // the live validation's reports, where `status` says (reportPath)
                "DBMIGRATE_REPORT_DIR", ctx.reportDir().toString());
    }

    @Override
    protected List<Integer> ports() {
        return List.of(ctx.ports().workerHttp());
    }

    @Override
    protected String probe() throws Exception {
        return HttpProbe.get(address(), "/health").trim();
    }
}
