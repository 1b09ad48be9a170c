package dev.localai.manager.lifecycle;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.error.ManagerErrors;
import dev.localai.manager.observe.Metrics;
import dev.localai.tts.api.ApiException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The effects of each {@link Slot} transition (the event, the metric, the worker thread that does the slow part)
 * and the commit of each worker's outcome, which applies only if the slot's generation is still the worker's.
 * Everything here runs under the {@link ModelManager}'s lock (the commits take it).
 */
final class Transitions {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");

    private final ModelManager m;

    Transitions(ModelManager manager) {
        this.m = manager;
    }

    void beginStart(Slot s, String reason) {
        int gen = s.toStarting(reason, m.now());
        m.changed.signalAll();
        m.events().publish("state", s.spec.id(), "state", "starting", "reason", reason);
        Thread.ofVirtual().name("start-" + s.spec.id()).start(() -> {
            try {
                m.worker.start(s, gen, "adopt".equals(reason));
            } catch (RuntimeException e) { // a bug must not leave the model STARTING for ever
                LOG.log(Level.WARNING, "start of " + s.spec.id() + " failed unexpectedly", e);
                commitFailure(s, gen, error(503, "model_start_failed", "Model '" + s.spec.id() + "' could not start "
                        + "(an internal error; see the manager's log)", retrySeconds(s)), "internal error", System.nanoTime(), "error");
            }
        });
    }

    void beginStop(Slot s, String reason) {
        int gen = s.toStopping(reason, "gaming".equals(reason) ? ManagerErrors.gaming(s.spec.id())
                : error(503, "model_unavailable", "Start of model '" + s.spec.id() + "' aborted: " + reason, 5));
        m.changed.signalAll();
        m.events().publish("state", s.spec.id(), "state", "stopping", "reason", reason);
        m.metrics().inc("manager_model_stops_total", "Model stops by reason", Metrics.labels("model", s.spec.id(), "reason", reason));
        spawnStop(s, gen, reason);
    }

    void spawnStop(Slot s, int gen, String reason) {
        Thread.ofVirtual().name("stop-" + s.spec.id()).start(() -> {
            try {
                m.worker.stop(s, gen, reason);
            } catch (RuntimeException e) { // a bug must not leave the model STOPPING for ever
                LOG.log(Level.WARNING, "stop of " + s.spec.id() + " failed unexpectedly", e);
                commitStopped(s, gen, reason, "internal error (see the manager's log)");
            }
        });
    }

    /** READY -> DRAINING; stops when in-flight reaches 0 or at the deadline (0 = no deadline). */
    void beginDrain(Slot s, String reason, long deadlineNanos) {
        int gen = s.toDraining(reason, deadlineNanos);
        m.changed.signalAll();
        m.events().publish("state", s.spec.id(), "state", "draining", "reason", reason, "inflight", s.inflight());
        if (deadlineNanos == 0) return;
        Thread.ofVirtual().name("drain-" + s.spec.id()).start(() -> {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) LockSupportSleep.sleepNanos(left);
            m.locked(() -> {
                if (!s.isCurrent(gen) || s.state() != ModelState.DRAINING) return;
                LOG.info("drain deadline reached for " + s.spec.id() + ": cutting " + s.inflight() + " request(s)");
                s.cancelLeases();
                beginStop(s, reason);
            });
        });
    }

    /** -> FAILED with backoff; fails the current attempt's waiters. */
    void fail(Slot s, ApiException error, String lastError) {
        s.toFailed(error, lastError, m.now());
        publishFailed(s);
    }

    void publishFailed(Slot s) {
        m.changed.signalAll();
        m.events().publish("state", s.spec.id(), "state", "failed", "error", s.lastError(),
                "retry_in_ms", s.backoffUntilMillis() - m.now());
    }

    // ================================================================= worker outcomes

    /** Retry-After for a failure about to be counted. */
    long retrySeconds(Slot s) {
        return Math.max(1, s.spec.backoff(s.failures() + 1).toSeconds());
    }

    /** Whether a worker's generation is still the model's (otherwise its outcome is dropped). */
    boolean current(Slot s, int gen) {
        return m.locked(() -> s.isCurrent(gen) && !m.closed());
    }

    private void observeStart(Slot s, long t0, String result) {
        m.metrics().inc("manager_model_starts_total", "Model starts by result", Metrics.labels("model", s.spec.id(), "result", result));
        m.metrics().observe("manager_model_start_seconds", "Time from start to healthy", Metrics.labels("model", s.spec.id()),
                (System.nanoTime() - t0) / 1e9);
    }

    void commitReady(Slot s, int gen, long t0) {
        m.locked(() -> {
            if (!s.toReady(gen, m.now())) return;
            observeStart(s, t0, "ok");
            m.changed.signalAll();
            m.events().publish("state", s.spec.id(), "state", "ready", "took_ms", (System.nanoTime() - t0) / 1_000_000);
            if (m.gaming.active() && s.spec.gpu()) beginStop(s, "gaming");
            else m.warmKeepWarm();
        });
    }

    void commitGone(Slot s, int gen) {
        m.locked(() -> {
            if (!s.toGone(gen, error(503, "model_unavailable", "Model '" + s.spec.id() + "' stopped while being adopted", 1)))
                return;
            m.changed.signalAll();
            m.events().publish("state", s.spec.id(), "state", "stopped", "reason", "gone");
            m.warmKeepWarm();
        });
    }

    void commitFailure(Slot s, int gen, ApiException err, String lastError, long t0, String result) {
        m.locked(() -> {
            if (!s.isCurrent(gen)) return;
            observeStart(s, t0, result);
            fail(s, err, lastError);
        });
    }

    /** The start deadline passed: fail the waiters with 504, back off, stop; returns the stop's generation or -1. */
    int commitStartTimeout(Slot s, int gen, long t0) {
        return m.locked(() -> {
            if (!s.isCurrent(gen) || m.closed()) return -1;
            String msg = "Model '" + s.spec.id() + "' did not become healthy within its start timeout of "
                    + s.spec.startTimeout().toMillis() / 1000.0 + " s (its health check GET " + s.spec.healthPath()
                    + " never passed); the start was given up and will be retried after a backoff";
            observeStart(s, t0, "timeout");
            int stopGen = s.startTimedOut(error(504, "model_start_timeout", msg), msg, m.now());
            m.changed.signalAll();
            m.events().publish("state", s.spec.id(), "state", "stopping", "reason", "start_timeout");
            return stopGen;
        });
    }

    /** A stop finished; {@code unverified} is null when docker confirmed the container is not running. */
    void commitStopped(Slot s, int gen, String reason, String unverified) {
        m.locked(() -> {
            if (!s.isCurrent(gen)) return;
            s.cancelLeases();
            if (unverified != null) LOG.warning("stop of " + s.spec.id() + " not verified: " + unverified);
            s.stopFinished(gen, unverified, error(503, "model_unavailable", unverified, 10), m.now());
            if (s.state() == ModelState.FAILED) publishFailed(s);
            else {
                m.changed.signalAll();
                m.events().publish("state", s.spec.id(), "state", "stopped", "reason", reason);
            }
            m.warmKeepWarm();
        });
    }
}
