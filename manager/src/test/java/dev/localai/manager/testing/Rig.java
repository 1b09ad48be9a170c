package dev.localai.manager.testing;

import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.lifecycle.HealthProbe;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.observe.EventBus;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A {@link ModelManager} over a {@link FakeRuntime}, a scriptable health probe and a {@link ManualClock};
 * the periodic tick is driven by the test ({@link #tick()}).
 */
public final class Rig implements AutoCloseable {
    public final FakeRuntime runtime;
    public final ManualClock clock = new ManualClock();
    public final ManagerConfig config;
    public final ModelManager manager;
    public final EventBus events = new EventBus();
    public final Metrics metrics = new Metrics();
    /** Model IDs whose health check never passes. */
    public final Set<String> neverHealthy = ConcurrentHashMap.newKeySet();
    private volatile CountDownLatch healthGate = new CountDownLatch(0);
    public volatile GpuProbe gpu = GpuProbe.none();

    public Rig(String json, FakeRuntime runtime, Path stateFile) {
        this.runtime = runtime;
        this.config = new ConfigLoader(name -> null).parse(json);
        HealthProbe health = (spec, timeout) -> {
            if (healthGate.getCount() > 0) return false;
            return runtime.isRunning(spec.container()) && !neverHealthy.contains(spec.id());
        };
        this.manager = new ModelManager(config, runtime, health, () -> gpu.sample(), new StateStore(stateFile), events, metrics,
                new ModelManager.Options(Duration.ofMillis(2), Duration.ZERO, false, clock));
    }

    /** Health checks fail until the returned latch is counted down. */
    public CountDownLatch holdHealth() {
        CountDownLatch l = new CountDownLatch(1);
        healthGate = l;
        return l;
    }

    public Rig boot() {
        manager.boot();
        return this;
    }

    public void tick() {
        manager.tick();
    }

    public ModelState state(String id) {
        return manager.view(id).state();
    }

    /** Waits (bounded, 10 s) until the model reaches the state; fails the test otherwise. */
    public void await(String id, ModelState state) {
        if (!manager.awaitCondition(vs -> vs.stream().anyMatch(v -> v.spec().id().equals(id) && v.state() == state),
                Duration.ofSeconds(10)))
            throw new AssertionError(id + " did not reach " + state + " (now " + state(id) + "); calls: " + runtime.calls());
    }

    /** Waits (bounded) until {@code n} requests wait on the model. */
    public void awaitWaiting(String id, int n) {
        if (!manager.awaitCondition(vs -> vs.stream().anyMatch(v -> v.spec().id().equals(id) && v.waiting() == n),
                Duration.ofSeconds(10)))
            throw new AssertionError(id + ": waiting " + manager.view(id).waiting() + " != " + n);
    }

    @Override
    public void close() {
        manager.close();
    }
}
