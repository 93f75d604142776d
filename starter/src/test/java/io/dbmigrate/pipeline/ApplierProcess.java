package io.dbmigrate.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dbmigrate.activities.connect.ConnectClient;
import io.dbmigrate.activities.pipeline.CaptureWatchdog;
import io.dbmigrate.activities.pipeline.ChangeApplier;
import io.dbmigrate.workflows.model.StreamSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;

/** The applier (with its watchdog) as its own process, so a test can kill -9 it mid-transaction. */
public final class ApplierProcess {
    public static void main(String[] args) throws Exception {
        StreamSpec spec = new ObjectMapper().readValue(Files.readString(Path.of(args[0])), StreamSpec.class);
        CaptureWatchdog watchdog = new CaptureWatchdog(new ConnectClient(args[2]), spec);
        new ChangeApplier(spec, args[1], new SimpleMeterRegistry()).run(() -> true, p -> {
            watchdog.check();
            System.out.println(p);
        });
    }
}
