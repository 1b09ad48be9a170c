package dev.localai.manager.lifecycle;

import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.DockerException;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The manager-wide mode: gaming ON refuses GPU requests, drains and stops the GPU models and reports whether it is
 * safe to play; OFF brings the keep-warm models back. The mode is persisted before anything else happens, and is
 * read (and changed) under the {@link ModelManager}'s lock.
 */
final class GamingMode {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");

    private final ModelManager m;
    private final StateStore store;
    private final GpuProbe gpu;
    private final ManagerConfig.Gaming cfg;
    private final ContainerRuntime runtime;
    private boolean on;

    GamingMode(ModelManager manager, ContainerRuntime runtime, StateStore store, GpuProbe gpu, ManagerConfig.Gaming cfg) {
        this.m = manager;
        this.runtime = runtime;
        this.store = store;
        this.gpu = gpu;
        this.cfg = cfg;
    }

    /** The persisted mode (read at boot). */
    boolean load() {
        return store.loadGaming();
    }

    /** Under the lock. */
    boolean active() {
        return on;
    }

    /** Sets the mode (under the lock) and publishes a change. */
    void set(boolean gaming, String reason) {
        boolean changed = gaming != on;
        on = gaming;
        if (reason != null) m.events().publish("mode", null, "gaming_mode", gaming, "reason", reason);
        else if (changed) m.events().publish("mode", null, "gaming_mode", gaming);
    }

    /** Writes the mode first; a failed write is logged and reported, never a reason to keep the GPU busy. */
    private boolean persist(boolean gaming) {
        try {
            store.saveGaming(gaming);
            return true;
        } catch (IOException e) {
            LOG.warning("cannot persist gaming mode " + (gaming ? "ON" : "OFF") + " to " + store.file() + ": " + e.getMessage());
            return false;
        }
    }

    /** Gaming mode ON: persisted first, GPU requests refused, GPU models drained and stopped (verified). */
    GamingResult on(boolean force, Duration wait) {
        long t0 = System.nanoTime();
        boolean persisted = persist(true);
        List<String> stopped = new ArrayList<>();
        Duration drain = force ? Duration.ZERO : cfg.drainTimeout();
        m.lock.lock();
        try {
            set(true, null);
            m.metrics().inc("manager_gaming_mode_switches_total", "Gaming mode switches", Metrics.labels("to", "on"));
            for (Slot s : m.slots.values()) {
                if (s.spec.gpu() && s.state().active()) stopped.add(s.spec.id());
                if (s.spec.gpu()) stopForGame(s, drain);
            }
            m.changed.signalAll();
        } finally {
            m.lock.unlock();
        }
        // docker is the truth: a GPU container running unknown to the manager (started by hand, or missed while the
        // daemon was unreachable) is stopped now, not at the next periodic reconciliation
        m.liveness.reconcile();
        m.locked(() -> m.awaitLocked(() -> !on || !anyGpuActive(), wait)); // an OFF meanwhile ends the wait
        Optional<GpuProbe.Sample> sample = gpu.sample();
        long vramDeadline = System.nanoTime() + cfg.vramWait().toNanos();
        while (sample.isPresent() && sample.get().usedMb() > cfg.vramFreeTargetMb() && System.nanoTime() < vramDeadline) {
            LockSupportSleep.sleepNanos(250_000_000L); // drivers report freed memory late
            sample = gpu.sample();
        }
        GamingSafety safety = safety();
        return new GamingResult(true, safety.safe(), safety.reason(), stopped, sample.map(GpuProbe.Sample::usedMb).orElse(null),
                (System.nanoTime() - t0) / 1_000_000, persisted);
    }

    /** One GPU model under gaming mode: a start is cancelled, idle ones stop, busy ones drain (a zero drain cuts). */
    private void stopForGame(Slot s, Duration drain) {
        switch (s.state()) {
            case STARTING -> m.tx.beginStop(s, "gaming");
            case READY -> {
                if (s.inflight() == 0 || drain.isZero()) {
                    s.cancelLeases();
                    m.tx.beginStop(s, "gaming");
                } else {
                    m.tx.beginDrain(s, "gaming", System.nanoTime() + drain.toNanos());
                }
            }
            case DRAINING -> {
                if (drain.isZero()) {
                    s.cancelLeases();
                    m.tx.beginStop(s, "gaming");
                } else if (s.drainDeadlineNanos() == 0 || s.drainDeadlineNanos() - System.nanoTime() > drain.toNanos()) {
                    m.tx.beginDrain(s, "gaming", System.nanoTime() + drain.toNanos());
                }
            }
            default -> { }
        }
    }

    /** Gaming mode OFF: persisted, then keep-warm models restart in priority order. */
    GamingResult off() {
        long t0 = System.nanoTime();
        boolean persisted = persist(false);
        m.locked(() -> {
            set(false, null);
            m.metrics().inc("manager_gaming_mode_switches_total", "Gaming mode switches", Metrics.labels("to", "off"));
            for (Slot s : m.slots.values()) s.rearmKeepWarm();
            m.warmKeepWarm();
            m.changed.signalAll();
        });
        return new GamingResult(false, false, "gaming mode is off", List.of(), gpu.sample().map(GpuProbe.Sample::usedMb).orElse(null),
                (System.nanoTime() - t0) / 1_000_000, persisted);
    }

    /** Under the lock. */
    private boolean anyGpuActive() {
        for (Slot s : m.slots.values()) if (s.spec.gpu() && s.state().active()) return true;
        return false;
    }

    /**
     * Safe only when gaming, no GPU model is (or may be) active in the manager's view, docker itself confirms that
     * no GPU model's container is running, and GPU memory is under the target (or there is no nvidia-smi). When
     * docker cannot be asked, it is not safe: a container may be running that nobody can see.
     */
    GamingSafety safety() {
        String view = m.locked(() -> {
            if (!on) return "gaming mode is off";
            List<String> active = new ArrayList<>();
            List<String> unverified = new ArrayList<>();
            for (Slot s : m.slots.values()) {
                if (!s.spec.gpu()) continue;
                if (s.state().active()) active.add(s.spec.id());
                else if (s.unverifiedStop()) unverified.add(s.spec.id());
            }
            if (!active.isEmpty()) return "GPU models still stopping: " + String.join(", ", active);
            if (!unverified.isEmpty()) return "docker has not confirmed the stop of: " + String.join(", ", unverified);
            return null;
        });
        if (view != null) return new GamingSafety(false, view);
        Set<String> running;
        try {
            running = runtime.running();
            m.liveness.runtimeOk();
        } catch (DockerException e) {
            m.liveness.runtimeResult(e);
            return new GamingSafety(false, "cannot ask the container runtime whether GPU containers are stopped ("
                    + e.getMessage() + ")");
        }
        List<String> up = new ArrayList<>();
        for (Slot s : m.slots.values()) if (s.spec.gpu() && running.contains(s.spec.container())) up.add(s.spec.container());
        if (!up.isEmpty()) return new GamingSafety(false, "GPU containers still running: " + String.join(", ", up));
        Optional<GpuProbe.Sample> sample = gpu.sample();
        if (sample.isPresent() && sample.get().usedMb() > cfg.vramFreeTargetMb())
            return new GamingSafety(false, "GPU memory in use (" + sample.get().usedMb() + " MiB) is above the target of "
                    + cfg.vramFreeTargetMb() + " MiB");
        return new GamingSafety(true, null);
    }

    boolean safeToGame() {
        return safety().safe();
    }
}
