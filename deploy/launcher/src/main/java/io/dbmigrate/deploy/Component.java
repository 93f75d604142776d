package io.dbmigrate.deploy;

import java.time.Duration;
import java.util.Optional;

/** One process of the local stack: how it starts, how its health is read through its own protocol, how it stops. */
public abstract class Component {
    protected final String name;
    protected final StackContext ctx;

    protected Component(String name, StackContext ctx) {
        this.name = name;
        this.ctx = ctx;
    }

    public String name() {
        return name;
    }

    public abstract String address();

    /** Starts the process; returns without waiting for health. */
    protected abstract void launch();

    /** Health through the component's own protocol; never throws. */
    protected abstract String probe() throws Exception;

    protected Duration startTimeout() {
        return Duration.ofSeconds(90);
    }

    /**
     * Why an optional component is left out on this machine (its program is not installed), or empty. A skipped
     * component is reported healthy with this note: the stack works without it.
     */
    public Optional<String> skipped() {
        return Optional.empty();
    }

    public Optional<Long> pid() {
        return ChildProcess.recordedPid(ctx.layout().pidFile(name));
    }

    public ComponentHealth health() {
        Optional<String> skip = skipped();
        if (skip.isPresent()) {
            return new ComponentHealth(name, true, null, address(), "skipped (optional): " + skip.get());
        }
        Long pid = pid().orElse(null);
        if (pid == null) {
            return new ComponentHealth(name, false, null, address(), "not running");
        }
        try {
            return new ComponentHealth(name, true, pid, address(), probe());
        } catch (Exception e) {
            return new ComponentHealth(name, false, pid, address(), String.valueOf(e.getMessage()));
        }
    }

    /** Starts the component unless it already runs, and waits until it is healthy. */
    public ComponentHealth start() {
        ComponentHealth now = health();
        if (now.healthy()) { // also a skipped component
            return now;
        }
        if (now.pid() == null) {
            launch();
        }
        return awaitHealthy();
    }

    protected ComponentHealth awaitHealthy() {
        long deadline = System.nanoTime() + startTimeout().toNanos();
        ComponentHealth h = health();
        while (!h.healthy()) {
            if (pid().isEmpty()) {
                throw failure("exited during start-up");
            }
            if (System.nanoTime() > deadline) {
                throw failure("was not healthy within " + startTimeout().toSeconds() + " s (" + h.detail() + ")");
            }
            ChildProcess.sleep(150);
            h = health();
        }
        return h;
    }

    public void stop() {
        ChildProcess.stop(ctx.layout().pidFile(name), Duration.ofSeconds(20));
    }

    protected StackException failure(String what) {
        return new StackException(name + " " + what + "; last lines of " + ctx.layout().log(name) + ":\n"
                + ChildProcess.tail(ctx.layout().log(name), 25));
    }
}
