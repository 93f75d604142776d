package io.dbmigrate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortCheckTest {
    static final EphemeralPorts LINUX_DEFAULT = new EphemeralPorts(32768, 60999, null);
    // a range no stack port can be in (StackPorts refuses ports below 1024)
    static final EphemeralPorts NONE = new EphemeralPorts(1, 1023, null);
    static final long THIS_PID = ProcessHandle.current().pid();

    static StackPorts withWorker(StackPorts p, int worker) {
        return new StackPorts(p.sourcePostgres(), p.targetPostgres(), p.kafka(), p.kafkaController(), p.connect(),
                p.temporal(), worker);
    }

    @Test
    void everyPortBlockTheProjectUsesLiesBelowLinuxsDefaultRangeAndApartFromTheUsualPorts() {
        for (int block : new int[] {25, 26, 27, 28}) {
            StackPorts p = StackPorts.block(block);
            assertEquals(List.of(), PortCheck.problems(p, Set.of(), LINUX_DEFAULT), "block " + block);
            for (StackPorts.Assignment a : p.assignments()) {
                assertFalse(Set.of(5432, 9092, 9093, 8083, 7233, 7234, 7235, 7239).contains(a.port()), a.toString());
                assertTrue(a.port() < 30000, "below Kubernetes' NodePort range: " + a);
            }
        }
        assertEquals(StackPorts.block(25), StackPorts.defaults());
    }

    @Test
    void aPortInsideTheRangeIsRefusedNamingComponentPortAndOption() {
        List<String> problems = PortCheck.problems(withWorker(StackPorts.defaults(), 40000), Set.of(), LINUX_DEFAULT);
        assertEquals(1, problems.size(), problems.toString());
        String p = problems.get(0);
        assertTrue(p.startsWith("worker: port 40000 lies in the kernel's ephemeral port range 32768-60999"), p);
        assertTrue(p.endsWith("choose a port below 32768 with --worker-port"), p);
    }

    @Test
    void theBoundComesFromTheRangeGiven() {
        // with a kernel whose range starts at 20000, every default port is inside it
        List<String> problems = PortCheck.problems(StackPorts.defaults(), Set.of(), new EphemeralPorts(20000, 29999, null));
        assertEquals(StackPorts.defaults().assignments().size(), problems.size(), problems.toString());
        assertTrue(problems.stream().allMatch(p -> p.contains("choose a port below 20000 with --")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("kafka: port 25093 ") && p.endsWith("--kafka-controller-port")),
                problems.toString());
    }

    @Test
    void aPortGivenTwiceIsRefused() {
        StackPorts d = StackPorts.defaults();
        StackPorts p = new StackPorts(d.sourcePostgres(), d.targetPostgres(), d.kafka(), d.kafkaController(), d.kafka(),
                d.temporal(), d.workerHttp());
        assertEquals(List.of("port 25092 is given to kafka (--kafka-port) and connect (--connect-port): each needs a port of its own"),
                PortCheck.problems(p, Set.of(), LINUX_DEFAULT));
    }

    @Test
    void aTakenPortIsReportedWithTheProcessHoldingIt() throws Exception {
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = squatter.getLocalPort();
            assertFalse(PortCheck.canListen(port));
            String holder = PortCheck.holder(port).orElseThrow();
            assertTrue(holder.startsWith("pid " + THIS_PID + " ("), holder);
            assertTrue(holder.contains("java"), holder);

            StackPorts ports = withWorker(StackPorts.defaults(), port);
            List<String> problems = PortCheck.problems(ports, Set.of("worker"), NONE);
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).startsWith("worker cannot start: port " + port + " on 127.0.0.1 is taken by pid " + THIS_PID + " ("),
                    problems.get(0));
            assertTrue(problems.get(0).endsWith("; stop it or choose another port with --worker-port"), problems.get(0));

            // a component this stack already runs holds its own port: not a conflict
            assertEquals(List.of(), PortCheck.problems(ports, Set.of(), NONE));
        }
    }

    @Test
    void parsesProcNetTcpAndTcp6() {
        String tcp = """
                  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 0100007F:6356 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 4242 1 0000000000000000 100 0 0 10 0
                   1: 0100007F:9C40 0100007F:6356 06 00000000:00000000 03:00000E5A 00000000     0        0 0 3 0000000000000000
                """;
        assertEquals(List.of(new PortCheck.TcpSocket(0x6356, 0x0A, 107, 4242), new PortCheck.TcpSocket(40000, 0x06, 0, 0)),
                PortCheck.parseProcNetTcp(tcp));
        String tcp6 = """
                  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0
                """;
        assertEquals(List.of(new PortCheck.TcpSocket(8080, 0x0A, 1000, 777)), PortCheck.parseProcNetTcp(tcp6));
    }
}
