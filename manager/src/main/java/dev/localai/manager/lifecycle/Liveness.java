package dev.localai.manager.lifecycle;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.DockerException;
import dev.localai.manager.observe.Metrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the manager's view true to docker: the periodic tick (idle stops, drain completion, keep-warm retries),
 * liveness checks of READY models, {@code docker events} hints, reconciliation with {@code docker ps}, and whether
 * the docker daemon answers at all. Decisions are taken under the {@link ModelManager}'s lock; docker calls run
 * outside it.
 */
final class Liveness implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");
    private static final Duration RECONCILE_INTERVAL = Duration.ofSeconds(30);

    private final ModelManager m;
    private final ContainerRuntime runtime;
    private final Duration tickInterval;
    private volatile boolean runtimeAvailable = true;
    private volatile String runtimeError = "";
    private long lastReconcileMillis;
    private Thread ticker;
    private volatile DockerEventWatcher dockerEvents;
    private volatile boolean closed;

    Liveness(ModelManager manager, ContainerRuntime runtime, Duration tickInterval) {
        this.m = manager;
        this.runtime = runtime;
        this.tickInterval = tickInterval;
    }

    /** Starts following docker events and (unless the tick interval is zero: tests tick by hand) the ticker. */
    void start() {
        dockerEvents = new DockerEventWatcher(runtime, this::containerDied, this::reconcile).start();
        if (tickInterval.isZero()) return;
        ticker = Thread.ofPlatform().daemon().name("manager-tick").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(tickInterval.toMillis());
                    tick();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "tick failed", e);
                }
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        if (ticker != null) ticker.interrupt();
        DockerEventWatcher w = dockerEvents;
        if (w != null) w.close();
    }

    // ------------------------------------------------------------------ the daemon itself

    boolean runtimeAvailable() {
        return runtimeAvailable;
    }

    String runtimeError() {
        return runtimeError;
    }

    /** The running containers, or empty when docker cannot be asked. */
    Optional<Set<String>> runningContainers() {
        try {
            Set<String> running = runtime.running();
            runtimeOk();
            return Optional.of(running);
        } catch (DockerException e) {
            runtimeFailed(e);
            LOG.warning("container runtime did not answer: " + e.getMessage());
            return Optional.empty();
        }
    }

    void runtimeOk() {
        if (!runtimeAvailable) {
            runtimeAvailable = true;
            runtimeError = "";
            m.events().publish("runtime", null, "available", true);
        }
    }

    private void runtimeFailed(DockerException e) {
        if (runtimeAvailable) m.events().publish("runtime", null, "available", false, "error", e.getMessage());
        runtimeAvailable = false;
        runtimeError = e.getMessage();
    }

    /** What a docker failure says about the daemon: unreachable, or (a missing container) plainly answering. */
    void runtimeResult(DockerException e) {
        if (e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE) runtimeFailed(e);
        else if (e.kind() == DockerException.Kind.NOT_FOUND) runtimeOk();
    }

    // ------------------------------------------------------------------ periodic work

    /** Marks a reconciliation done now (under the lock). */
    void reconciled() {
        lastReconcileMillis = m.now();
    }

    /** Idle stops, liveness checks, backoff expiry, drain completion, runtime recovery, periodic reconciliation. */
    void tick() {
        if (m.closed()) return;
        m.refreshGpu();
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
        if (recovered || m.locked(() -> m.now() - lastReconcileMillis >= RECONCILE_INTERVAL.toMillis())) reconcile();
        List<Slot> probe = new ArrayList<>();
        m.locked(() -> {
            long now = m.now();
            for (Slot s : m.slots.values()) {
                if (s.idleExpired(now)) m.tx.beginStop(s, "idle");
                else if (s.state() == ModelState.DRAINING && s.inflight() == 0) m.tx.beginStop(s, s.reason());
                else if (s.claimLiveness(now, true)) probe.add(s);
            }
            m.warmKeepWarm();
        });
        for (Slot s : probe) Thread.ofVirtual().name("liveness-" + s.spec.id()).start(() -> check(s));
    }

    /**
     * Docker is the source of truth: containers found running for models the manager holds as stopped or failed
     * (started by hand, or missed while the daemon was unreachable) are adopted, or stopped in gaming mode.
     */
    void reconcile() {
        Map<Slot, Integer> gens = new LinkedHashMap<>();
        m.locked(() -> {
            reconciled();
            for (Slot s : m.slots.values()) gens.put(s, s.gen());
        });
        Set<String> running;
        try {
            running = runtime.running();
            runtimeOk();
        } catch (DockerException e) {
            runtimeResult(e);
            return;
        }
        m.locked(() -> {
            for (Map.Entry<Slot, Integer> e : gens.entrySet()) {
                Slot s = e.getKey();
                if (!s.isCurrent(e.getValue())) continue; // changed meanwhile
                if (!running.contains(s.spec.container())) s.confirmedNotRunning();
                else if (s.state() == ModelState.STOPPED || s.state() == ModelState.FAILED) m.adoptOrStop(s);
            }
        });
    }

    /** A docker event says the container died: confirm by inspection at once if the model was serving. */
    private void containerDied(String container) {
        for (Slot s : m.slots.values()) {
            if (s.spec.container().equals(container)) {
                Thread.ofVirtual().name("died-" + s.spec.id()).start(() -> checkNow(s));
            }
        }
    }

    /** Checks a READY model now, unless a check of it is running. */
    void checkNow(Slot s) {
        if (m.locked(() -> s.claimLiveness(m.now(), false))) check(s);
    }

    private void check(Slot s) {
        int gen = m.locked(s::gen);
        try {
            m.worker.checkLiveness(s, gen);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "liveness check of " + s.spec.id() + " failed unexpectedly", e);
            commit(s, gen, null, "", false); // re-arms the next check
        }
    }

    /** Outcome of a liveness check: a crash (container gone), a failed health check, or healthy. */
    void commit(Slot s, int gen, String crash, String logLine, boolean unhealthy) {
        m.locked(() -> {
            s.livenessDone(m.now());
            if (!s.isCurrent(gen) || s.state() != ModelState.READY) return;
            if (crash != null) {
                LOG.warning("model " + s.spec.id() + " crashed: " + crash
                        + (logLine.isEmpty() ? "" : "; last log line: " + logLine));
                countCrash(s);
                s.cancelLeases();
                s.crashed(error(503, "model_unavailable", crash, 10), crash, m.now()); // no log line: admins use /logs
                m.tx.publishFailed(s);
                m.warmKeepWarm();
            } else if (unhealthy) {
                if (s.unhealthy(m.now())) {
                    countCrash(s);
                    s.cancelLeases();
                    m.tx.beginStop(s, "unhealthy");
                }
            } else {
                s.healthy();
            }
        });
    }

    private void countCrash(Slot s) {
        m.metrics().inc("manager_container_crashes_total", "Containers found dead or unhealthy after ready",
                Metrics.labels("model", s.spec.id()));
    }
}
