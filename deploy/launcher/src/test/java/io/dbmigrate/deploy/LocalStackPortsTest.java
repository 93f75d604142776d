package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalStackPortsTest {
    @TempDir Path home;

    @Test
    void aRunningStackIsNotMovedToOtherPorts() throws Exception {
        StackLayout layout = new StackLayout(home, home);
        // a stack whose temporal runs (this JVM stands in for it) on the default ports
        ChildProcess.writePid(layout.pidFile("temporal"), ProcessHandle.current().pid());
        Files.writeString(layout.stateFile(), "{\"sourcePostgres\":25432,\"targetPostgres\":25433,\"kafka\":25092,"
                + "\"kafkaController\":25093,\"connect\":25083,\"temporal\":25233,\"workerHttp\":25464}");
        StackPorts d = StackPorts.defaults();
        StackPorts moved = new StackPorts(d.sourcePostgres(), d.targetPostgres(), d.kafka(), d.kafkaController(),
                d.connect(), d.temporal(), 25465);

        StackException e = assertThrows(StackException.class,
                () -> new LocalStack(layout, moved, "unused").up(line -> {}));
        assertTrue(e.getMessage().startsWith("nothing was started: the stack in " + home + " runs on other ports: "
                + "--worker-port 25464 (asked: 25465). Run `stack down` first"), e.getMessage());
        assertFalse(Files.exists(layout.logs()), "nothing was prepared");
    }

    /**
     * After `stack down`, the state file still names the old ports but nothing runs: `up` on other ports goes on to
     * the port checks (here refused for a port this test holds) instead of calling the stopped stack a running one.
     * Prometheus, optional and off, neither runs nor starts, which once made every stopped stack look half-running.
     */
    @Test
    void aStoppedStackMovesToOtherPorts() throws Exception {
        StackLayout layout = new StackLayout(home, home);
        Files.writeString(layout.stateFile(), "{\"sourcePostgres\":26432,\"targetPostgres\":26433,\"kafka\":26092,"
                + "\"kafkaController\":26093,\"connect\":26083,\"temporal\":26233,\"workerHttp\":26464}");
        try (java.net.ServerSocket held = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            StackPorts d = StackPorts.defaults();
            StackPorts asked = new StackPorts(d.sourcePostgres(), d.targetPostgres(), d.kafka(), d.kafkaController(),
                    d.connect(), d.temporal(), held.getLocalPort());
            StackException e = assertThrows(StackException.class,
                    () -> new LocalStack(layout, asked, "unused").up(line -> {}));
            assertFalse(e.getMessage().contains("runs on other ports"), e.getMessage());
            assertTrue(e.getMessage().startsWith("nothing was started; the ports need fixing first"), e.getMessage());
        }
    }

    @Test
    void aStateFileWithoutPgBouncersPortIsReadAndGivesItTheSourcesBlock() throws Exception {
        StackLayout layout = new StackLayout(home, home);
        Files.writeString(layout.stateFile(), "{\"sourcePostgres\":26432,\"targetPostgres\":26433,\"kafka\":26092,"
                + "\"kafkaController\":26093,\"connect\":26083,\"temporal\":26233,\"workerHttp\":26464}");
        StackPorts read = LocalStack.recordedPorts(layout, StackPorts.defaults());
        org.junit.jupiter.api.Assertions.assertEquals(StackPorts.block(26), read);
        org.junit.jupiter.api.Assertions.assertEquals(26643, read.pgbouncer());
    }
}
