package io.dbmigrate.cli.bench;

import io.dbmigrate.workflows.model.MigrationStatus.Phase;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** One cell of the fault matrix: which process fails, in which phase of the migration. */
record FaultCell(Fault fault, When when) {

    /** The failing process: a kill -9 of a JVM, or a restart of a PostgreSQL cluster (pg_ctl stop -m fast, then up). */
    enum Fault {
        WORKER("worker", "worker", false),
        CONNECT("connect", "connect", false),
        KAFKA("kafka", "kafka", false),
        SOURCE("source", "source-postgres", true),
        TARGET("target", "target-postgres", true);

        final String label;
        final String component;
        final boolean restart;

        Fault(String label, String component, boolean restart) {
            this.label = label;
            this.component = component;
            this.restart = restart;
        }

        String action() {
            return restart ? "restart" : "kill -9";
        }
    }

    /** The phase the fault lands in, as the workflow's status query names it. */
    enum When {
        SNAPSHOT("snapshot", Phase.SNAPSHOT),
        STREAMING("streaming", Phase.VALIDATION),
        APPROVAL("approval", Phase.APPROVAL),
        CUTOVER("cutover", Phase.CUTOVER);

        final String label;
        final Phase phase;

        When(String label, Phase phase) {
            this.label = label;
            this.phase = phase;
        }
    }

    static List<FaultCell> all() {
        List<FaultCell> out = new ArrayList<>();
        for (Fault f : Fault.values()) {
            for (When w : When.values()) {
                out.add(new FaultCell(f, w));
            }
        }
        return out;
    }

    /** {@code component:phase}, e.g. {@code worker:snapshot}; {@code validation} is accepted for {@code streaming}. */
    static FaultCell parse(String spec) {
        String[] parts = spec.trim().split(":");
        if (parts.length != 2) {
            throw new IllegalArgumentException("a cell is component:phase, got '" + spec + "'");
        }
        String c = parts[0].trim().toLowerCase();
        String p = parts[1].trim().toLowerCase();
        Fault fault = Arrays.stream(Fault.values()).filter(f -> f.label.equals(c) || f.component.equals(c)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown component '" + c + "' in '" + spec + "'; one of "
                        + Arrays.stream(Fault.values()).map(f -> f.label).toList()));
        When when = Arrays.stream(When.values()).filter(w -> w.label.equals(p) || w.phase.label().equals(p)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown phase '" + p + "' in '" + spec + "'; one of "
                        + Arrays.stream(When.values()).map(w -> w.label).toList()));
        return new FaultCell(fault, when);
    }

    String name() {
        return fault.label + ":" + when.label;
    }
}
