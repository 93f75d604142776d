package io.dbmigrate.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuSamplerTest {
    /** Burns about half a second of CPU in a child process that has ended (and been reaped) when this returns. */
    private static void shortLivedChild() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "end=$(( $(date +%s%N) + 500000000 )); while [ $(date +%s%N) -lt $end ]; do :; done")
                .inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    /**
     * The bench's writers connect, write and disconnect inside a phase: their backends have ended when the phase's
     * CPU is read. A PostgreSQL root counts them through its reaped children's time; before, they were not counted.
     */
    @Test
    void aPostgresRootCountsChildrenThatEndedInsideTheWindow() throws Exception {
        long me = ProcessHandle.current().pid();
        CpuSampler cpu = CpuSampler.start(Map.of("test-postgres", me));
        CpuSampler plain = CpuSampler.start(Map.of("test-jvm", me));
        shortLivedChild();
        Map<String, Double> withChildren = cpu.cores();
        Map<String, Double> without = plain.cores();
        assertTrue(withChildren.get("test-postgres") - without.get("test-jvm") > 0.2,
                withChildren + " vs " + without);
    }

    @Test
    void namedProcessesTheRestStolenAndIdleAddUpToTheMachine() throws Exception {
        CpuSampler cpu = CpuSampler.start(Map.of("test-jvm", ProcessHandle.current().pid()));
        shortLivedChild();
        Map<String, Double> cores = cpu.cores();
        assertTrue(cores.keySet().containsAll(java.util.List.of("test-jvm", CpuSampler.OTHER, CpuSampler.STOLEN, CpuSampler.IDLE)),
                cores.toString());
        double sum = cores.values().stream().mapToDouble(Double::doubleValue).sum();
        int cpus = Runtime.getRuntime().availableProcessors();
        // the child's time is in "everything else": it was neither named nor idle
        assertTrue(cores.get(CpuSampler.OTHER) > 0.2, cores.toString());
        assertTrue(Math.abs(sum - cpus) < 0.35 * cpus, "sum " + sum + " of " + cpus + " CPUs: " + cores);
    }
}
