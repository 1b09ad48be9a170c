package dev.localai.manager.lifecycle;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.error.ManagerErrors;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.observe.EventBus;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import dev.localai.tts.api.ApiException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The single owner of every model's lifecycle, in the manner of llama-swap's {@code process}: each model is a
 * {@link Slot} state machine, and every decision (grant, join a start, start, evict, drain, stop) is taken under
 * this one lock, so no caller acts on a state it read earlier. Slow work runs on virtual threads
 * ({@link ContainerWorker}) and commits its outcome here only if the slot's generation is still the one it was
 * started for; a stop bumps the generation, which cancels a start in progress. Waiters block on one condition with a
 * deadline and re-decide on every change.
 *
 * <p>Collaborators: {@link GamingMode} (the manager-wide mode), {@link Liveness} (the periodic tick, liveness
 * checks, reconciliation with docker), {@link Transitions} (each transition's effects and the workers' outcomes),
 * {@link Admission} (pure eviction planning), {@link ContainerWorker} (docker
 * and health work), {@link GrantedLease} (a request in flight).
 */
public final class ModelManager implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");
    private static final Duration MAX_WAIT = Duration.ofDays(365);

    /** Tunables that are not part of models.json. */
    public record Options(Duration pollInterval, Duration tickInterval, boolean allowEvictKeepWarm, InstantSource clock) {
        public static Options defaults() {
            return new Options(Duration.ofMillis(500), Duration.ofSeconds(1), false, InstantSource.system());
        }
    }

    private final ManagerConfig config;
    private final ContainerRuntime runtime;
    private final GpuProbe gpu;
    private final EventBus events;
    private final Metrics metrics;
    private final Options opts;
    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();
    final Map<String, Slot> slots = new LinkedHashMap<>();
    final ContainerWorker worker;
    final Transitions tx;
    final GamingMode gaming;
    final Liveness liveness;
    private volatile boolean closed;
    /** Total GPU memory from the last probe (for "auto" budgets); -1 = unknown. */
    private volatile long gpuTotalMb = -1;

    public ModelManager(ManagerConfig config, ContainerRuntime runtime, HealthProbe health, GpuProbe gpu,
                        StateStore store, EventBus events, Metrics metrics, Options opts) {
        this.config = config;
        this.runtime = runtime;
        this.gpu = gpu;
        this.events = events;
        this.metrics = metrics;
        this.opts = opts;
        for (ModelSpec m : config.models().values()) slots.put(m.id(), new Slot(m));
        this.liveness = new Liveness(this, runtime, opts.tickInterval());
        this.tx = new Transitions(this);
        this.worker = new ContainerWorker(this, runtime, health, opts.pollInterval());
        this.gaming = new GamingMode(this, runtime, store, gpu, config.gaming());
    }

    public ManagerConfig config() {
        return config;
    }

    public EventBus events() {
        return events;
    }

    public Metrics metrics() {
        return metrics;
    }

    public ContainerRuntime runtime() {
        return runtime;
    }

    /** The manager's clock (views' times are on it). */
    public long now() {
        return opts.clock().millis();
    }

    boolean closed() {
        return closed;
    }

    void locked(Runnable r) {
        lock.lock();
        try {
            r.run();
        } finally {
            lock.unlock();
        }
    }

    <T> T locked(Supplier<T> r) {
        lock.lock();
        try {
            return r.get();
        } finally {
            lock.unlock();
        }
    }

    // ================================================================= boot and close

    /** Reads the persisted mode, adopts running containers, stops GPU ones if gaming, warms keep-warm models. */
    public void boot() {
        boolean gamingOn = gaming.load();
        refreshGpu();
        java.util.Set<String> running = liveness.runningContainers().orElse(java.util.Set.of());
        locked(() -> {
            liveness.reconciled();
            gaming.set(gamingOn, "boot");
            for (Slot s : slots.values()) if (running.contains(s.spec.container())) adoptOrStop(s);
            warmKeepWarm();
        });
        Thread.ofVirtual().name("manager-boot-checks").start(() -> worker.warnAboutContainers(config.models().values()));
        liveness.start();
    }

    /** A container found running for a model held as down: adopted, or stopped in gaming mode (under the lock). */
    void adoptOrStop(Slot s) {
        if (gaming.active() && s.spec.gpu()) {
            LOG.warning("container " + s.spec.container() + " is running during gaming mode: stopping it");
            tx.beginStop(s, "gaming");
        } else {
            LOG.info("adopting running container " + s.spec.container() + " for " + s.spec.id());
            tx.beginStart(s, "adopt");
        }
    }

    @Override
    public void close() {
        closed = true;
        liveness.close();
        locked(changed::signalAll);
    }

    // ================================================================= requests

    /** Waits (bounded) until the model is READY and takes an in-flight place; throws an {@link ApiException} otherwise. */
    public Lease acquire(String id, Duration maxWait) {
        Slot s = slot(id);
        long deadline = System.nanoTime() + Math.min(nanos(maxWait), s.spec.queueTimeout().toNanos());
        boolean patient = maxWait.compareTo(s.spec.queueTimeout()) >= 0; // a shorter wait was asked for explicitly
        long startDeadline = patient ? Math.max(deadline, System.nanoTime() + s.spec.startTimeout().toNanos() + 5_000_000_000L)
                : deadline;
        lock.lock();
        try {
            if (s.queueFull()) throw reject(s, error(429, "concurrency_limit",
                    "Too many requests queued for model '" + s.spec.id() + "'", 1));
            s.join();
            try {
                Slot.Attempt joined = null;
                while (true) {
                    if (closed) throw error(503, "shutting_down", "The manager is shutting down", 5);
                    if (s.spec.gpu() && gaming.active()) throw reject(s, ManagerErrors.gaming(s.spec.id()));
                    if (joined != null && joined.failure() != null) throw joined.failure();
                    if (s.canGrant()) return s.grant(this::release);
                    switch (s.state()) {
                        case STARTING -> joined = s.attempt();
                        case FAILED -> {
                            long left = s.backoffUntilMillis() - now();
                            if (left > 0) {
                                String code = "container_runtime_unavailable".equals(s.lastFailureCode())
                                        ? s.lastFailureCode() : "model_unavailable";
                                throw error(503, code, "Model '" + s.spec.id() + "' failed recently ("
                                        + s.lastError() + "); retrying after backoff", Math.max(1, (left + 999) / 1000));
                            }
                            joined = admitAndStart(s, "request");
                        }
                        case STOPPED -> joined = admitAndStart(s, "request");
                        default -> { /* READY but full, DRAINING, STOPPING: wait for a place or the stop */ }
                    }
                    // a request that joined a start waits for that start, which ends by itself at start_timeout_s
                    // (vLLM cold starts outlast queue_timeout_s); the hard cap only guards against a lost wake-up
                    boolean starting = s.state() == ModelState.STARTING;
                    long left = (starting ? startDeadline : deadline) - System.nanoTime();
                    if (left <= 0) throw error(504, starting ? "model_start_timeout" : "queue_timeout",
                            "Timed out waiting for model '" + s.spec.id() + "' (" + s.state().wire() + ")");
                    changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw error(503, "interrupted", "interrupted while waiting for model '" + id + "'");
            } finally {
                s.leave();
            }
        } finally {
            lock.unlock();
        }
    }

    private ApiException reject(Slot s, ApiException e) {
        metrics.inc("manager_rejections_total", "Requests refused before reaching a model",
                Metrics.labels("model", s.spec.id(), "code", ManagerErrors.code(e)));
        return e;
    }

    /** A lease ends: idle time counts from now, a draining model stops at its last request. */
    void release(GrantedLease l) {
        locked(() -> {
            Slot s = l.slot();
            if (!s.release(l, now())) return;
            if (s.state() == ModelState.DRAINING && s.inflight() == 0) tx.beginStop(s, s.reason());
            changed.signalAll();
        });
    }

    /**
     * Decides (under the lock) whether s can start now. Starts it and returns the attempt, or begins the
     * needed evictions and returns null (the caller waits), or throws insufficient_vram.
     */
    private Slot.Attempt admitAndStart(Slot s, String reason) {
        Admission.Plan plan;
        try {
            plan = Admission.plan(s, slots.values(), budget(), opts.allowEvictKeepWarm());
        } catch (ApiException e) {
            throw reject(s, e);
        }
        for (Slot e : plan.evict()) {
            if (e.state() != ModelState.READY) continue;
            if (e.inflight() == 0) tx.beginStop(e, "eviction");
            else tx.beginDrain(e, "eviction", 0); // never kill busy work: wait for it to finish
        }
        if (!plan.startNow()) return null; // the caller waits for the evictions
        tx.beginStart(s, reason);
        return s.attempt();
    }

    /** VRAM budget in MiB; 0 = unlimited. "auto" = measured total minus reserve (unlimited when unknown). */
    long budget() {
        long b = config.gpu().vramBudgetMb();
        if (b >= 0) return b;
        long total = gpuTotalMb;
        return total > 0 ? Math.max(1, total - config.gpu().reserveMb()) : 0;
    }

    /** Samples the GPU outside the lock (nvidia-smi may take a while); "auto" budgets use the last total. */
    void refreshGpu() {
        if (config.gpu().vramBudgetMb() >= 0) return;
        gpu.sample().ifPresent(x -> gpuTotalMb = x.totalMb());
    }

    /**
     * Starts keep-warm models that are down, in priority order, one at a time, when nothing conflicts and
     * nobody waits for a conflicting model. Called after every transition and on each tick (under the lock).
     */
    void warmKeepWarm() {
        if (closed) return;
        for (ModelSpec m : config.keepWarmInPriorityOrder()) {
            Slot s = slots.get(m.id());
            if (s.state() == ModelState.STARTING) return; // sequential warm-up
            if (s.manuallyStopped() || (m.gpu() && gaming.active())) continue;
            boolean down = s.state() == ModelState.STOPPED
                    || (s.state() == ModelState.FAILED && m.restart().onFailure() && now() >= s.backoffUntilMillis());
            if (!down || Admission.blockedByWaiters(s, slots.values(), budget())) continue;
            try {
                if (!Admission.plan(s, slots.values(), budget(), opts.allowEvictKeepWarm()).startNow()) continue;
            } catch (ApiException e) {
                continue;
            }
            tx.beginStart(s, s.state() == ModelState.FAILED ? "rewarm" : "keep_warm");
            return;
        }
    }

    // ================================================================= control plane

    /** Manual/admin start: ensure ready (with evictions) and release. */
    public void start(String id, Duration wait) {
        acquire(id, wait).close(); // ready now; the lease is only the proof
    }

    /** Manual/admin stop (drain up to the drain timeout); waits until verified stopped or the wait ends. */
    public boolean stop(String id, String reason, Duration wait) {
        Slot s = slot(id);
        lock.lock();
        try {
            s.stopManually();
            stopLocked(s, reason);
            return awaitLocked(() -> !s.state().active(), wait);
        } finally {
            lock.unlock();
        }
    }

    void stopLocked(Slot s, String reason) {
        switch (s.state()) {
            case STARTING -> tx.beginStop(s, reason);
            case READY -> {
                if (s.inflight() == 0) tx.beginStop(s, reason);
                else tx.beginDrain(s, reason, System.nanoTime() + config.gaming().drainTimeout().toNanos());
            }
            default -> { }
        }
    }

    /** Stops every model; returns the IDs that were active. */
    public List<String> stopAll(String reason, Duration wait) {
        List<String> ids = new ArrayList<>();
        lock.lock();
        try {
            for (Slot s : slots.values()) {
                if (s.state().active()) ids.add(s.spec.id());
                s.stopManually();
                stopLocked(s, reason);
            }
            awaitLocked(() -> slots.values().stream().noneMatch(x -> x.state().active()), wait);
        } finally {
            lock.unlock();
        }
        return ids;
    }

    /** Stops the other GPU models that are not keep-warm or that conflict with id, then starts id. */
    public List<String> swap(String id, Duration wait) {
        Slot target = slot(id);
        List<String> ids = new ArrayList<>();
        locked(() -> {
            for (Slot s : slots.values()) {
                if (s == target || !s.spec.gpu() || !s.state().active()) continue;
                if (s.spec.keepWarm() && !s.spec.sharesGroupWith(target.spec)) continue;
                ids.add(s.spec.id());
                stopLocked(s, "swap");
            }
        });
        start(id, wait);
        return ids;
    }

    /** A wait in nanoseconds, capped at a year so that deadline arithmetic never overflows. */
    static long nanos(Duration d) {
        return d.isNegative() ? 0 : d.compareTo(MAX_WAIT) > 0 ? MAX_WAIT.toNanos() : d.toNanos();
    }

    /** Waits under the lock until {@code done} holds or the wait ends (or the thread is interrupted). */
    boolean awaitLocked(Supplier<Boolean> done, Duration wait) {
        long deadline = System.nanoTime() + nanos(wait);
        try {
            while (!done.get()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ================================================================= mode, liveness, views

    public GamingResult gamingOn(boolean force, Duration wait) {
        return gaming.on(force, wait);
    }

    public GamingResult gamingOff() {
        return gaming.off();
    }

    public boolean gaming() {
        return locked(gaming::active);
    }

    public boolean safeToGame() {
        return gaming.safeToGame();
    }

    /** Whether it is safe to game now and, if not, why (asks docker: call once per answer). */
    public GamingSafety gamingSafety() {
        return gaming.safety();
    }

    /** Periodic work: idle stops, liveness, backoff expiry, drain completion, runtime recovery. */
    public void tick() {
        liveness.tick();
    }

    /** Docker is the source of truth: adopts (or, gaming, stops) containers running for models held as down. */
    public void reconcile() {
        liveness.reconcile();
    }

    /** Checks a READY model now (also used by the proxy after a connection failure). */
    public void checkNow(String id) {
        Slot s = slots.get(id);
        if (s != null) liveness.checkNow(s);
    }

    public boolean runtimeAvailable() {
        return liveness.runtimeAvailable();
    }

    public String runtimeError() {
        return liveness.runtimeError();
    }

    public Optional<GpuProbe.Sample> gpuSample() {
        return gpu.sample();
    }

    public List<ModelView> views() {
        return locked(() -> slots.values().stream().map(Slot::view).toList());
    }

    public ModelView view(String id) {
        return locked(() -> slot(id).view());
    }

    /** Waits until a predicate over the views holds (for control endpoints with ?wait and for tests). */
    public boolean awaitCondition(Predicate<List<ModelView>> p, Duration wait) {
        lock.lock();
        try {
            return awaitLocked(() -> p.test(slots.values().stream().map(Slot::view).toList()), wait);
        } finally {
            lock.unlock();
        }
    }

    private Slot slot(String id) {
        Slot s = slots.get(id);
        if (s == null) throw error(404, "model_not_found", "The model '" + id + "' does not exist");
        return s;
    }
}
