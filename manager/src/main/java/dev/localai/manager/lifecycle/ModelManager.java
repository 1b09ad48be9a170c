package dev.localai.manager.lifecycle;

import dev.localai.manager.api.ApiError;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.DockerException;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.observe.EventBus;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The single owner of every model's lifecycle and of the manager's mode.
 *
 * <p>All decisions (grant, join a start, start, evict, drain, stop, gaming mode) are taken under one lock, so no
 * caller ever acts on a state it read earlier. Slow work (docker commands, health polls) runs on virtual threads
 * that commit their outcome under the lock only if the model's generation is still the one they were started
 * for; a stop or gaming mode bumps the generation, which cancels an in-progress start. Waiters block on one
 * condition with a deadline and re-decide on every change.
 *
 * <p>Collaborators: {@link Admission} plans evictions (pure), {@link ContainerWorker} does the docker and health
 * work, {@link Slot} holds each model's record, {@link GrantedLease} counts a request in flight.
 */
public final class ModelManager implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");

    /** Manager-wide mode. */
    public enum Mode { NORMAL, GAMING }

    /** Tunables that are not part of models.json. */
    public record Options(Duration pollInterval, Duration tickInterval, boolean allowEvictKeepWarm, InstantSource clock) {
        public static Options defaults() {
            return new Options(Duration.ofMillis(500), Duration.ofSeconds(1), false, InstantSource.system());
        }
    }

    private final ManagerConfig config;
    private final ContainerRuntime runtime;
    private final HealthProbe health;
    private final GpuProbe gpu;
    private final StateStore store;
    private final EventBus events;
    private final Metrics metrics;
    private final Options opts;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private Mode mode = Mode.NORMAL;
    private volatile boolean runtimeAvailable = true;
    private volatile String runtimeError = "";
    private volatile boolean closed;
    /** Total GPU memory from the last probe (for "auto" budgets); -1 = unknown. */
    private volatile long gpuTotalMb = -1;
    private static final Duration RECONCILE_INTERVAL = Duration.ofSeconds(30);
    private long lastReconcileMillis;
    private Thread ticker;
    private volatile DockerEventWatcher dockerEvents;
    private final ContainerWorker worker;
    /** Stop reasons after which the model is FAILED (with the backoff counted when the stop began), not STOPPED. */
    private static final Set<String> FAILING_STOPS = Set.of("start_timeout", "unhealthy");

    public ModelManager(ManagerConfig config, ContainerRuntime runtime, HealthProbe health, GpuProbe gpu,
                        StateStore store, EventBus events, Metrics metrics, Options opts) {
        this.config = config;
        this.runtime = runtime;
        this.health = health;
        this.gpu = gpu;
        this.store = store;
        this.events = events;
        this.metrics = metrics;
        this.opts = opts;
        for (ModelSpec m : config.models().values()) slots.put(m.id(), new Slot(m));
        this.worker = new ContainerWorker(this, runtime, health, opts.pollInterval());
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

    private long now() {
        return opts.clock().millis();
    }

    // ================================================================= boot

    /** Reads the persisted mode, adopts running containers, stops GPU ones if gaming, warms keep-warm models. */
    public void boot() {
        boolean gaming = store.loadGaming();
        refreshGpu();
        Set<String> running = Set.of();
        try {
            running = runtime.running();
            runtimeOk();
        } catch (DockerException e) {
            runtimeFailed(e);
            LOG.warning("container runtime not available at boot: " + e.getMessage());
        }
        lock.lock();
        try {
            lastReconcileMillis = now();
            mode = gaming ? Mode.GAMING : Mode.NORMAL;
            events.publish("mode", null, "gaming_mode", gaming, "reason", "boot");
            for (Slot s : slots.values()) {
                if (!running.contains(s.spec.container())) continue;
                if (gaming && s.spec.gpu()) {
                    beginStop(s, "gaming");
                } else {
                    LOG.info("adopting running container " + s.spec.container() + " for " + s.spec.id());
                    beginStart(s, "adopt");
                }
            }
            warmKeepWarm();
        } finally {
            lock.unlock();
        }
        Thread.ofVirtual().name("manager-boot-checks").start(() -> worker.warnAboutContainers(config.models().values()));
        dockerEvents = new DockerEventWatcher(runtime, this::containerDied, this::reconcile).start();
        if (!opts.tickInterval().isZero()) {
            ticker = Thread.ofPlatform().daemon().name("manager-tick").start(() -> {
                while (!closed) {
                    try {
                        Thread.sleep(opts.tickInterval().toMillis());
                        tick();
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "tick failed", e);
                    }
                }
            });
        }
    }

    /** A docker event says the container died: confirm by inspection at once if the model was serving. */
    private void containerDied(String container) {
        for (Slot s : slots.values()) {
            if (s.spec.container().equals(container)) {
                Thread.ofVirtual().name("died-" + s.spec.id()).start(() -> checkNow(s.spec.id()));
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        if (ticker != null) ticker.interrupt();
        DockerEventWatcher w = dockerEvents;
        if (w != null) w.close();
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ================================================================= requests

    /** Waits (bounded) until the model is READY and takes an in-flight slot; throws an {@link ApiError} otherwise. */
    public Lease acquire(String id, Duration maxWait) {
        Slot s = slot(id);
        long deadline = System.nanoTime() + Math.min(maxWait.toNanos(), s.spec.queueTimeout().toNanos());
        boolean patient = maxWait.compareTo(s.spec.queueTimeout()) >= 0; // a shorter wait was asked for explicitly
        long startDeadline = patient ? Math.max(deadline, System.nanoTime() + s.spec.startTimeout().toNanos() + 5_000_000_000L)
                : deadline;
        lock.lock();
        try {
            if (s.inflight + s.waiting >= s.spec.maxConcurrency() + s.spec.maxQueue()) {
                metrics.inc("manager_rejections_total", "Requests refused before reaching a model", rej(s, "concurrency_limit"));
                throw new ApiError(429, "concurrency_limit", "Too many requests queued for model '" + s.spec.id() + "'", 1);
            }
            s.waiting++;
            s.manuallyStopped = false;
            try {
                Slot.Attempt joined = null;
                while (true) {
                    if (closed) throw new ApiError(503, "shutting_down", "The manager is shutting down", 5);
                    if (s.spec.gpu() && mode == Mode.GAMING) {
                        metrics.inc("manager_rejections_total", "Requests refused before reaching a model", rej(s, "gaming_mode_active"));
                        throw ApiError.gaming(s.spec.id());
                    }
                    if (joined != null && joined.failure != null) throw joined.failure;
                    switch (s.state) {
                        case READY -> {
                            if (s.inflight < s.spec.maxConcurrency()) {
                                s.inflight++;
                                GrantedLease l = new GrantedLease(s, this::release);
                                s.leases.add(l);
                                return l;
                            }
                        }
                        case STARTING -> joined = s.attempt;
                        case FAILED -> {
                            long left = s.backoffUntilMillis - now();
                            if (left > 0) {
                                String code = "container_runtime_unavailable".equals(s.lastFailureCode)
                                        ? s.lastFailureCode : "model_unavailable";
                                throw new ApiError(503, code, "Model '" + s.spec.id() + "' failed recently ("
                                        + s.lastError + "); retrying after backoff", Math.max(1, (left + 999) / 1000));
                            }
                            joined = admitAndStart(s, "request");
                        }
                        case STOPPED -> joined = admitAndStart(s, "request");
                        default -> { /* DRAINING / STOPPING: wait for the stop, then start again */ }
                    }
                    // a request that joined a start waits for that start, which ends by itself at start_timeout_s
                    // (vLLM cold starts outlast queue_timeout_s); the hard cap only guards against a lost wake-up
                    long until = s.state == ModelState.STARTING ? startDeadline : deadline;
                    long left = until - System.nanoTime();
                    if (left <= 0) {
                        boolean starting = s.state == ModelState.STARTING;
                        throw new ApiError(504, starting ? "model_start_timeout" : "queue_timeout",
                                "Timed out waiting for model '" + s.spec.id() + "' (" + s.state.wire() + ")");
                    }
                    changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiError(503, "interrupted", "interrupted while waiting for model '" + id + "'");
            } finally {
                s.waiting--;
            }
        } finally {
            lock.unlock();
        }
    }

    private static String rej(Slot s, String code) {
        return Metrics.labels("model", s.spec.id(), "code", code);
    }

    /**
     * Decides (under the lock) whether s can start now. Starts it and returns the attempt, or begins the
     * needed evictions and returns null (the caller waits), or throws insufficient_vram.
     */
    private Slot.Attempt admitAndStart(Slot s, String reason) {
        Admission.Plan plan;
        try {
            plan = Admission.plan(s, slots.values(), budget(), opts.allowEvictKeepWarm());
        } catch (ApiError e) {
            metrics.inc("manager_rejections_total", "Requests refused before reaching a model", rej(s, e.code()));
            throw e;
        }
        for (Slot e : plan.evict()) evictOne(e);
        return plan.startNow() ? beginStart(s, reason) : null; // null: the caller waits for the evictions
    }

    private void evictOne(Slot e) {
        if (e.state == ModelState.READY) {
            if (e.inflight == 0) beginStop(e, "eviction");
            else beginDrain(e, "eviction", 0); // never kill busy work: wait for it to finish
        }
    }

    /** VRAM budget in MiB; 0 = unlimited. "auto" = measured total minus reserve (unlimited when unknown). */
    long budget() {
        long b = config.gpu().vramBudgetMb();
        if (b >= 0) return b;
        long total = gpuTotalMb;
        return total > 0 ? Math.max(1, total - config.gpu().reserveMb()) : 0;
    }

    /** Samples the GPU outside the lock (nvidia-smi may take a while); "auto" budgets use the last total. */
    private void refreshGpu() {
        if (config.gpu().vramBudgetMb() >= 0) return;
        gpu.sample().ifPresent(x -> gpuTotalMb = x.totalMb());
    }

    // ================================================================= transitions (under lock)

    private Slot.Attempt beginStart(Slot s, String reason) {
        s.state = ModelState.STARTING;
        s.gen++;
        s.reason = reason;
        s.attempt = new Slot.Attempt();
        s.livenessFailures = 0;
        s.starts++;
        final int gen = s.gen;
        changed.signalAll();
        events.publish("state", s.spec.id(), "state", "starting", "reason", reason);
        Thread.ofVirtual().name("start-" + s.spec.id()).start(() -> {
            try {
                worker.start(s, gen, "adopt".equals(reason));
            } catch (RuntimeException e) { // a bug must not leave the model STARTING for ever
                LOG.log(Level.WARNING, "start of " + s.spec.id() + " failed unexpectedly", e);
                commitFailure(s, gen, new ApiError(503, "model_start_failed", "Model '" + s.spec.id() + "' could not start: " + e,
                        retrySeconds(s)), String.valueOf(e), System.nanoTime(), "error");
            }
        });
        return s.attempt;
    }

    private void beginStop(Slot s, String reason) {
        if (s.state == ModelState.STARTING && s.attempt != null && s.attempt.failure == null) {
            s.attempt.failure = "gaming".equals(reason) ? ApiError.gaming(s.spec.id())
                    : new ApiError(503, "model_unavailable", "Start of model '" + s.spec.id() + "' aborted: " + reason, 5);
        }
        s.state = ModelState.STOPPING;
        s.gen++;
        s.reason = reason;
        final int gen = s.gen;
        changed.signalAll();
        events.publish("state", s.spec.id(), "state", "stopping", "reason", reason);
        metrics.inc("manager_model_stops_total", "Model stops by reason", Metrics.labels("model", s.spec.id(), "reason", reason));
        Thread.ofVirtual().name("stop-" + s.spec.id()).start(() -> {
            try {
                worker.stop(s, gen, reason);
            } catch (RuntimeException e) { // a bug must not leave the model STOPPING for ever
                LOG.log(Level.WARNING, "stop of " + s.spec.id() + " failed unexpectedly", e);
                commitStopped(s, gen, reason, String.valueOf(e));
            }
        });
    }

    /** READY -> DRAINING; stops when in-flight reaches 0 or at the deadline (0 = no deadline). */
    private void beginDrain(Slot s, String reason, long deadlineNanos) {
        s.state = ModelState.DRAINING;
        s.gen++;
        s.reason = reason;
        s.drainDeadlineNanos = deadlineNanos;
        final int gen = s.gen;
        changed.signalAll();
        events.publish("state", s.spec.id(), "state", "draining", "reason", reason, "inflight", s.inflight);
        if (deadlineNanos != 0) {
            Thread.ofVirtual().name("drain-" + s.spec.id()).start(() -> {
                long left = deadlineNanos - System.nanoTime();
                if (left > 0) LockSupportSleep.sleepNanos(left);
                lock.lock();
                try {
                    if (s.gen == gen && s.state == ModelState.DRAINING) {
                        LOG.info("drain deadline reached for " + s.spec.id() + ": cutting " + s.inflight + " request(s)");
                        cancelLeases(s);
                        beginStop(s, reason);
                    }
                } finally {
                    lock.unlock();
                }
            });
        }
    }

    private void cancelLeases(Slot s) {
        for (GrantedLease l : s.leases) l.cancel();
    }

    /** Sets FAILED with backoff; fails the current attempt's waiters. */
    private void fail(Slot s, ApiError error, String lastError) {
        s.failures++;
        s.state = ModelState.FAILED;
        s.gen++;
        s.lastError = lastError;
        s.lastFailureCode = error.code();
        s.backoffUntilMillis = now() + s.spec.backoff(s.failures).toMillis();
        if (s.attempt != null && s.attempt.failure == null) s.attempt.failure = error;
        changed.signalAll();
        events.publish("state", s.spec.id(), "state", "failed", "error", lastError,
                "retry_in_ms", s.backoffUntilMillis - now());
    }

    // ================================================================= workers (off lock)

    /** Retry-After for a failure about to be counted. */
    long retrySeconds(Slot s) {
        return Math.max(1, s.spec.backoff(s.failures + 1).toSeconds());
    }

    /** Whether a worker's generation is still the model's (otherwise its outcome is dropped). */
    boolean current(Slot s, int gen) {
        lock.lock();
        try {
            return s.gen == gen && !closed;
        } finally {
            lock.unlock();
        }
    }

    private void observeStart(Slot s, long t0, String result) {
        metrics.inc("manager_model_starts_total", "Model starts by result", Metrics.labels("model", s.spec.id(), "result", result));
        metrics.observe("manager_model_start_seconds", "Time from start to healthy", Metrics.labels("model", s.spec.id()),
                (System.nanoTime() - t0) / 1e9);
    }

    void commitReady(Slot s, int gen, long t0) {
        lock.lock();
        try {
            if (s.gen != gen) return;
            s.state = ModelState.READY;
            s.unverifiedStop = false;
            s.failures = 0;
            s.lastError = "";
            s.lastUsedMillis = now();
            s.readySinceMillis = now();
            s.nextLivenessMillis = now() + s.spec.liveness().interval().toMillis();
            observeStart(s, t0, "ok");
            changed.signalAll();
            events.publish("state", s.spec.id(), "state", "ready", "took_ms", (System.nanoTime() - t0) / 1_000_000);
            if (mode == Mode.GAMING && s.spec.gpu()) beginStop(s, "gaming");
            else warmKeepWarm();
        } finally {
            lock.unlock();
        }
    }

    void commitGone(Slot s, int gen) {
        lock.lock();
        try {
            if (s.gen != gen) return;
            s.state = ModelState.STOPPED;
            s.gen++;
            if (s.attempt != null && s.attempt.failure == null)
                s.attempt.failure = new ApiError(503, "model_unavailable", "Model '" + s.spec.id() + "' stopped while being adopted", 1);
            changed.signalAll();
            events.publish("state", s.spec.id(), "state", "stopped", "reason", "gone");
            warmKeepWarm();
        } finally {
            lock.unlock();
        }
    }

    void commitFailure(Slot s, int gen, ApiError err, String lastError, long t0, String result) {
        lock.lock();
        try {
            if (s.gen != gen) return;
            observeStart(s, t0, result);
            fail(s, err, lastError);
        } finally {
            lock.unlock();
        }
    }

    /** The start deadline passed: fail the waiters with 504, back off, stop; returns the stop's generation or -1. */
    int commitStartTimeout(Slot s, int gen, long t0) {
        lock.lock();
        try {
            if (s.gen != gen || closed) return -1;
            String msg = "Model '" + s.spec.id() + "' did not become healthy within " + s.spec.startTimeout().toMillis() + " ms";
            if (s.attempt != null) s.attempt.failure = new ApiError(504, "model_start_timeout", msg);
            observeStart(s, t0, "timeout");
            s.failures++;
            s.lastError = msg;
            s.lastFailureCode = "model_start_timeout";
            s.backoffUntilMillis = now() + s.spec.backoff(s.failures).toMillis();
            s.state = ModelState.STOPPING;
            s.gen++;
            s.reason = "start_timeout";
            changed.signalAll();
            events.publish("state", s.spec.id(), "state", "stopping", "reason", "start_timeout");
            return s.gen;
        } finally {
            lock.unlock();
        }
    }

    /** A stop finished; {@code error} is null when docker confirmed the container is not running. */
    void commitStopped(Slot s, int gen, String reason, String error) {
        lock.lock();
        try {
            if (s.gen != gen) return;
            cancelLeases(s);
            s.unverifiedStop = error != null;
            if (error != null) {
                LOG.warning("stop of " + s.spec.id() + " not verified: " + error);
                fail(s, new ApiError(503, "model_unavailable", error, 10), "stop not verified: " + error);
            } else if (FAILING_STOPS.contains(reason)) {
                s.state = ModelState.FAILED; // failures and backoff were counted when the stop began
                s.gen++;
                changed.signalAll();
                events.publish("state", s.spec.id(), "state", "failed", "error", s.lastError);
            } else {
                s.state = ModelState.STOPPED;
                s.gen++;
                changed.signalAll();
                events.publish("state", s.spec.id(), "state", "stopped", "reason", reason);
            }
            warmKeepWarm();
        } finally {
            lock.unlock();
        }
    }

    // ================================================================= keep-warm, idle, liveness

    /**
     * Starts keep-warm models that are down, in priority order, one at a time, when nothing conflicts and
     * nobody waits for a conflicting model. Called after every transition and on each tick.
     */
    private void warmKeepWarm() {
        if (closed) return;
        for (ModelSpec m : config.keepWarmInPriorityOrder()) {
            Slot s = slots.get(m.id());
            if (s.state == ModelState.STARTING) return; // sequential warm-up
            if (s.manuallyStopped || (m.gpu() && mode == Mode.GAMING)) continue;
            boolean down = s.state == ModelState.STOPPED
                    || (s.state == ModelState.FAILED && m.restart().onFailure() && now() >= s.backoffUntilMillis);
            if (!down) continue;
            if (Admission.blockedByWaiters(s, slots.values(), budget())) continue;
            try {
                if (!Admission.plan(s, slots.values(), budget(), opts.allowEvictKeepWarm()).startNow()) continue;
            } catch (ApiError e) {
                continue;
            }
            beginStart(s, s.state == ModelState.FAILED ? "rewarm" : "keep_warm");
            return;
        }
    }

    /** Periodic work: idle stops, liveness, backoff expiry, drain completion, runtime recovery. */
    public void tick() {
        if (closed) return;
        refreshGpu();
        boolean recovered = false;
        if (!runtimeAvailable) {
            try {
                runtime.ping();
                runtimeOk();
                recovered = true;
            } catch (DockerException e) {
                runtimeResult(e);
            }
        }
        if (recovered || now() - lastReconcileMillis >= RECONCILE_INTERVAL.toMillis()) reconcile();
        List<Slot> probe = new ArrayList<>();
        lock.lock();
        try {
            long now = now();
            for (Slot s : slots.values()) {
                if (s.state == ModelState.READY && !s.spec.keepWarm() && !s.spec.idleTimeout().isZero()
                        && s.inflight == 0 && s.waiting == 0 && now - s.lastUsedMillis >= s.spec.idleTimeout().toMillis()) {
                    beginStop(s, "idle");
                    continue;
                }
                if (s.state == ModelState.DRAINING && s.inflight == 0) {
                    beginStop(s, s.reason);
                    continue;
                }
                if (s.state == ModelState.READY && !s.livenessRunning && !s.spec.liveness().interval().isZero()
                        && now >= s.nextLivenessMillis) {
                    s.livenessRunning = true;
                    probe.add(s);
                }
            }
            warmKeepWarm();
        } finally {
            lock.unlock();
        }
        for (Slot s : probe) Thread.ofVirtual().name("liveness-" + s.spec.id()).start(() -> liveness(s));
    }

    /**
     * Docker is the source of truth: containers found running for models the manager holds as stopped or failed
     * (started by hand, or missed while the daemon was unreachable) are adopted, or stopped in gaming mode.
     */
    public void reconcile() {
        Map<Slot, Integer> gens = new LinkedHashMap<>();
        lock.lock();
        try {
            lastReconcileMillis = now();
            for (Slot s : slots.values()) gens.put(s, s.gen);
        } finally {
            lock.unlock();
        }
        Set<String> running;
        try {
            running = runtime.running();
            runtimeOk();
        } catch (DockerException e) {
            runtimeResult(e);
            return;
        }
        lock.lock();
        try {
            for (Map.Entry<Slot, Integer> e : gens.entrySet()) {
                Slot s = e.getKey();
                if (s.gen != e.getValue()) continue; // changed meanwhile
                if (!running.contains(s.spec.container())) {
                    s.unverifiedStop = false; // docker says it is not running
                    continue;
                }
                if (s.state != ModelState.STOPPED && s.state != ModelState.FAILED) continue;
                if (mode == Mode.GAMING && s.spec.gpu()) {
                    LOG.warning("container " + s.spec.container() + " is running during gaming mode: stopping it");
                    beginStop(s, "gaming");
                } else {
                    LOG.info("adopting running container " + s.spec.container() + " for " + s.spec.id());
                    beginStart(s, "adopt");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Checks a READY model now (also used by the proxy after a connection failure). */
    public void checkNow(String id) {
        Slot s = slots.get(id);
        if (s == null) return;
        lock.lock();
        try {
            if (s.state != ModelState.READY || s.livenessRunning) return;
            s.livenessRunning = true;
        } finally {
            lock.unlock();
        }
        liveness(s);
    }

    private void liveness(Slot s) {
        int gen;
        lock.lock();
        try {
            gen = s.gen;
        } finally {
            lock.unlock();
        }
        try {
            worker.checkLiveness(s, gen);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "liveness check of " + s.spec.id() + " failed unexpectedly", e);
            commitLiveness(s, gen, null, "", false); // re-arms the next check
        }
    }

    /** Outcome of a liveness check: a crash (container gone), a failed health check, or healthy. */
    void commitLiveness(Slot s, int gen, String crash, String logLine, boolean unhealthy) {
        lock.lock();
        try {
            s.livenessRunning = false;
            s.nextLivenessMillis = now() + s.spec.liveness().interval().toMillis();
            if (s.gen != gen || s.state != ModelState.READY) return;
            if (crash != null) {
                LOG.warning("model " + s.spec.id() + " crashed: " + crash);
                s.crashes++;
                metrics.inc("manager_container_crashes_total", "Containers found dead or unhealthy after ready",
                        Metrics.labels("model", s.spec.id()));
                cancelLeases(s);
                fail(s, new ApiError(503, "model_unavailable", crash, 10),
                        crash + (logLine.isEmpty() ? "" : "; last log line: " + logLine));
                warmKeepWarm();
            } else if (unhealthy) {
                s.livenessFailures++;
                if (s.livenessFailures >= s.spec.liveness().failureThreshold()) {
                    s.crashes++;
                    metrics.inc("manager_container_crashes_total", "Containers found dead or unhealthy after ready",
                            Metrics.labels("model", s.spec.id()));
                    s.failures++;
                    s.lastError = "health check failed " + s.livenessFailures + " times";
                    s.backoffUntilMillis = now() + s.spec.backoff(s.failures).toMillis();
                    cancelLeases(s);
                    beginStop(s, "unhealthy");
                }
            } else {
                s.livenessFailures = 0;
            }
        } finally {
            lock.unlock();
        }
    }

    // ================================================================= control plane

    /**
     * Result of a gaming-mode switch.
     *
     * @param vramUsedMb GPU memory in use afterwards, null without nvidia-smi
     * @param persisted  false when the state file could not be written (the switch still happened; see the log)
     */
    public record GamingResult(boolean gamingMode, boolean safeToGame, List<String> stoppedModels, Long vramUsedMb,
                               long tookMs, boolean persisted) {}

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
    public GamingResult gamingOn(boolean force, Duration wait) {
        long t0 = System.nanoTime();
        boolean persisted = persist(true);
        List<String> stopped = new ArrayList<>();
        Duration drain = force ? Duration.ZERO : config.gaming().drainTimeout();
        lock.lock();
        try {
            if (mode != Mode.GAMING) events.publish("mode", null, "gaming_mode", true);
            mode = Mode.GAMING;
            metrics.inc("manager_gaming_mode_switches_total", "Gaming mode switches", Metrics.labels("to", "on"));
            for (Slot s : slots.values()) {
                if (!s.spec.gpu()) continue;
                switch (s.state) {
                    case STARTING -> {
                        stopped.add(s.spec.id());
                        beginStop(s, "gaming");
                    }
                    case READY -> {
                        stopped.add(s.spec.id());
                        if (s.inflight == 0 || drain.isZero()) {
                            cancelLeases(s);
                            beginStop(s, "gaming");
                        } else {
                            beginDrain(s, "gaming", System.nanoTime() + drain.toNanos());
                        }
                    }
                    case DRAINING -> {
                        stopped.add(s.spec.id());
                        if (drain.isZero()) {
                            cancelLeases(s);
                            beginStop(s, "gaming");
                        } else if (s.drainDeadlineNanos == 0 || s.drainDeadlineNanos - System.nanoTime() > drain.toNanos()) {
                            beginDrain(s, "gaming", System.nanoTime() + drain.toNanos());
                        }
                    }
                    case STOPPING -> stopped.add(s.spec.id());
                    default -> { }
                }
            }
            changed.signalAll();
            long deadline = System.nanoTime() + wait.toNanos();
            while (mode == Mode.GAMING && anyGpuActive()) { // an OFF meanwhile ends the wait
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        Optional<GpuProbe.Sample> sample = gpu.sample();
        long vramDeadline = System.nanoTime() + config.gaming().vramWait().toNanos();
        while (sample.isPresent() && sample.get().usedMb() > config.gaming().vramFreeTargetMb() && System.nanoTime() < vramDeadline) {
            LockSupportSleep.sleepNanos(250_000_000L); // drivers report freed memory late
            sample = gpu.sample();
        }
        return new GamingResult(true, safeToGame(), stopped, sample.map(GpuProbe.Sample::usedMb).orElse(null),
                (System.nanoTime() - t0) / 1_000_000, persisted);
    }

    /** Gaming mode OFF: persisted, then keep-warm models restart in priority order. */
    public GamingResult gamingOff() {
        long t0 = System.nanoTime();
        boolean persisted = persist(false);
        lock.lock();
        try {
            if (mode != Mode.NORMAL) events.publish("mode", null, "gaming_mode", false);
            mode = Mode.NORMAL;
            metrics.inc("manager_gaming_mode_switches_total", "Gaming mode switches", Metrics.labels("to", "off"));
            for (Slot s : slots.values()) {
                if (s.spec.keepWarm()) s.manuallyStopped = false;
                if (s.state == ModelState.FAILED && s.spec.keepWarm()) s.backoffUntilMillis = 0;
            }
            warmKeepWarm();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return new GamingResult(false, false, List.of(), gpu.sample().map(GpuProbe.Sample::usedMb).orElse(null),
                (System.nanoTime() - t0) / 1_000_000, persisted);
    }

    private boolean anyGpuActive() {
        for (Slot s : slots.values()) if (s.spec.gpu() && s.state.active()) return true;
        return false;
    }

    public boolean gaming() {
        lock.lock();
        try {
            return mode == Mode.GAMING;
        } finally {
            lock.unlock();
        }
    }

    public boolean safeToGame() {
        boolean ok;
        lock.lock();
        try {
            ok = mode == Mode.GAMING && !anyGpuActive()
                    && slots.values().stream().noneMatch(x -> x.spec.gpu() && x.unverifiedStop);
        } finally {
            lock.unlock();
        }
        if (!ok) return false;
        return gpu.sample().map(x -> x.usedMb() <= config.gaming().vramFreeTargetMb()).orElse(true);
    }

    /** Manual/admin start: ensure ready (with evictions) and release. */
    public void start(String id, Duration wait) {
        acquire(id, wait).close(); // ready now; the lease is only the proof

    }

    /** Manual/admin stop (drain up to the drain timeout); waits until verified stopped or the wait ends. */
    public boolean stop(String id, String reason, Duration wait) {
        Slot s = slot(id);
        lock.lock();
        try {
            s.manuallyStopped = true;
            stopLocked(s, reason);
            long deadline = System.nanoTime() + wait.toNanos();
            while (s.state.active()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                changed.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    private void stopLocked(Slot s, String reason) {
        switch (s.state) {
            case STARTING -> beginStop(s, reason);
            case READY -> {
                if (s.inflight == 0) beginStop(s, reason);
                else beginDrain(s, reason, System.nanoTime() + config.gaming().drainTimeout().toNanos());
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
                if (s.state.active()) ids.add(s.spec.id());
                s.manuallyStopped = true;
                stopLocked(s, reason);
            }
            long deadline = System.nanoTime() + wait.toNanos();
            while (slots.values().stream().anyMatch(x -> x.state.active())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        return ids;
    }

    /** Stops the other GPU models that are not keep-warm or that conflict with id, then starts id. */
    public List<String> swap(String id, Duration wait) {
        Slot target = slot(id);
        List<String> ids = new ArrayList<>();
        lock.lock();
        try {
            for (Slot s : slots.values()) {
                if (s == target || !s.spec.gpu() || !s.state.active()) continue;
                if (s.spec.keepWarm() && !s.spec.sharesGroupWith(target.spec)) continue;
                ids.add(s.spec.id());
                stopLocked(s, "swap");
            }
        } finally {
            lock.unlock();
        }
        start(id, wait);
        return ids;
    }

    // ================================================================= views

    public List<ModelView> views() {
        lock.lock();
        try {
            List<ModelView> out = new ArrayList<>();
            for (Slot s : slots.values()) out.add(s.view());
            return out;
        } finally {
            lock.unlock();
        }
    }

    public ModelView view(String id) {
        lock.lock();
        try {
            return slot(id).view();
        } finally {
            lock.unlock();
        }
    }


    public boolean runtimeAvailable() {
        return runtimeAvailable;
    }

    public String runtimeError() {
        return runtimeError;
    }

    public Optional<GpuProbe.Sample> gpuSample() {
        return gpu.sample();
    }

    /** Waits until a predicate over the views holds (for control endpoints with ?wait and for tests). */
    public boolean awaitCondition(java.util.function.Predicate<List<ModelView>> p, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        lock.lock();
        try {
            while (true) {
                List<ModelView> v = new ArrayList<>();
                for (Slot s : slots.values()) v.add(s.view());
                if (p.test(v)) return true;
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    private Slot slot(String id) {
        Slot s = slots.get(id);
        if (s == null) throw new ApiError(404, "model_not_found", "The model '" + id + "' does not exist");
        return s;
    }

    void runtimeOk() {
        if (!runtimeAvailable) {
            runtimeAvailable = true;
            runtimeError = "";
            events.publish("runtime", null, "available", true);
        }
    }

    private void runtimeFailed(DockerException e) {
        if (runtimeAvailable) events.publish("runtime", null, "available", false, "error", e.getMessage());
        runtimeAvailable = false;
        runtimeError = e.getMessage();
    }

    void runtimeResult(DockerException e) {
        if (e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE) runtimeFailed(e);
        else if (e.kind() == DockerException.Kind.NOT_FOUND) runtimeOk();
    }

    /** A lease ends (under the lock): idle time counts from now, a draining model stops at its last request. */
    void release(GrantedLease l) {
        lock.lock();
        try {
            Slot s = l.slot();
            if (!s.leases.remove(l)) return;
            s.inflight--;
            s.lastUsedMillis = now(); // idle time counts from the END of the last request
            if (s.state == ModelState.DRAINING && s.inflight == 0) beginStop(s, s.reason);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
