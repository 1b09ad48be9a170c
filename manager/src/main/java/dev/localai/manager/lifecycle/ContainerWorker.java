package dev.localai.manager.lifecycle;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.ContainerState;
import dev.localai.manager.docker.DockerException;
import dev.localai.manager.config.ModelSpec;
import dev.localai.tts.api.ApiException;
import java.time.Duration;
import java.util.Collection;
import java.util.logging.Logger;

/**
 * The slow work on one model's container, done off the {@link ModelManager}'s lock on virtual threads: docker start
 * plus health polling (watching the container die meanwhile), verified stops, liveness checks. It decides nothing:
 * every outcome is handed back to the manager, which discards outcomes of a superseded generation.
 */
final class ContainerWorker {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");
    private static final int LOG_TAIL_LINES = 20;
    private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

    private final ModelManager owner;
    private final ContainerRuntime runtime;
    private final HealthProbe health;
    private final Duration pollInterval;

    ContainerWorker(ModelManager owner, ContainerRuntime runtime, HealthProbe health, Duration pollInterval) {
        this.owner = owner;
        this.runtime = runtime;
        this.health = health;
        this.pollInterval = pollInterval;
    }

    /**
     * Starts the container (or adopts it when {@code adopt} and it runs already) and polls its health until it
     * passes, the container exits, or the start timeout passes.
     */
    void start(Slot s, int gen, boolean adopt) {
        long t0 = System.nanoTime();
        long deadline = t0 + s.spec.startTimeout().toNanos();
        String name = s.spec.container();
        try {
            ContainerState st = runtime.inspect(name);
            owner.liveness.runtimeOk();
            if (!st.running() && adopt) {
                owner.tx.commitGone(s, gen); // it stopped since it was seen running: nothing to adopt, nobody asked for it
                return;
            }
            if (!st.running()) {
                s.op.lock();
                try {
                    if (!owner.tx.current(s, gen)) return;
                    runtime.start(name);
                } finally {
                    s.op.unlock();
                }
            }
        } catch (DockerException e) {
            owner.liveness.runtimeResult(e);
            ApiException err = e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE
                    ? error(503, "container_runtime_unavailable", "Container runtime unavailable: " + e.getMessage(), 10)
                    : error(503, "model_start_failed", "Model '" + s.spec.id() + "' could not start: " + e.getMessage(),
                    owner.tx.retrySeconds(s));
            owner.tx.commitFailure(s, gen, err, e.getMessage(), t0, "error");
            return;
        }
        boolean first = true;
        long lastProgress = t0 - PROGRESS_EVERY_NANOS; // the first poll reports at once
        while (owner.tx.current(s, gen)) {
            if (System.nanoTime() - lastProgress >= PROGRESS_EVERY_NANOS) { // cold-start progress for /api/events and the UI
                lastProgress = System.nanoTime();
                owner.events().publish("progress", s.spec.id(), "state", "starting", "phase", "health_check",
                        "elapsed_s", (lastProgress - t0) / 1_000_000_000L, "timeout_s", s.spec.startTimeout().toSeconds());
            }
            long left = deadline - System.nanoTime();
            Duration probeTimeout = Duration.ofNanos(Math.max(1_000_000L, Math.min(left, s.spec.liveness().timeout().toNanos())));
            if (health.healthy(s.spec, probeTimeout)) {
                owner.tx.commitReady(s, gen, t0);
                return;
            }
            try {
                ContainerState st = runtime.inspect(name);
                if (!st.running()) {
                    // the container's own log may hold secrets: it goes to the manager's log and to GET /logs (admin key),
                    // never into an answer that inference-key clients see
                    String tail = logTail(name);
                    if (!tail.isEmpty()) LOG.warning("model " + s.spec.id() + ": " + st.describeExit() + "; last log lines:\n" + tail);
                    String msg = st.describeExit() + "; the container's log is at GET /logs/" + s.spec.id() + " (admin key)";
                    owner.tx.commitFailure(s, gen, error(503, "model_start_failed",
                            "Model '" + s.spec.id() + "' failed to start: " + msg, owner.tx.retrySeconds(s)), st.describeExit(), t0, "exited");
                    return;
                }
            } catch (DockerException e) {
                owner.liveness.runtimeResult(e);
                if (e.kind() == DockerException.Kind.NOT_FOUND) {
                    owner.tx.commitFailure(s, gen, error(503, "model_start_failed", e.getMessage(), owner.tx.retrySeconds(s)),
                            e.getMessage(), t0, "error");
                    return;
                }
            }
            if (System.nanoTime() >= deadline) {
                int stopGen = owner.tx.commitStartTimeout(s, gen, t0);
                if (stopGen >= 0) stop(s, stopGen, "start_timeout");
                return;
            }
            long pause = first ? Math.min(250, pollInterval.toMillis()) : pollInterval.toMillis();
            LockSupportSleep.sleepNanos(pause * 1_000_000L);
            first = false;
        }
    }

    /** {@code docker stop}, verified by inspect and retried once; the outcome goes to the manager. */
    void stop(Slot s, int gen, String reason) {
        String name = s.spec.container();
        String error = null;
        s.op.lock();
        try {
            for (int attempt = 0; attempt < 2; attempt++) {
                try {
                    runtime.stop(name, s.spec.stopTimeout());
                    owner.liveness.runtimeOk();
                } catch (DockerException e) {
                    owner.liveness.runtimeResult(e);
                    if (e.kind() != DockerException.Kind.NOT_FOUND) error = e.getMessage();
                }
                try {
                    ContainerState st = runtime.inspect(name);
                    if (!st.running()) {
                        error = null;
                        break;
                    }
                    error = "container " + name + " still running after docker stop";
                } catch (DockerException e) {
                    owner.liveness.runtimeResult(e);
                    if (e.kind() == DockerException.Kind.NOT_FOUND) {
                        error = null;
                        break;
                    }
                    error = e.getMessage(); // e.g. a timed-out stop the daemon may still carry out: retry and re-inspect
                }
            }
        } finally {
            s.op.unlock();
        }
        owner.tx.commitStopped(s, gen, reason, error);
    }

    /** One liveness check of a READY model: is the container still running, does its health check pass. */
    void checkLiveness(Slot s, int gen) {
        String crash = null;
        try {
            ContainerState st = runtime.inspect(s.spec.container());
            owner.liveness.runtimeOk();
            if (!st.running()) crash = st.describeExit();
        } catch (DockerException e) {
            owner.liveness.runtimeResult(e);
            if (e.kind() == DockerException.Kind.NOT_FOUND) crash = "container " + s.spec.container() + " disappeared";
        }
        boolean unhealthy = crash == null && !health.healthy(s.spec, s.spec.liveness().timeout());
        String tail = crash == null ? "" : lastLine(logTail(s.spec.container()));
        owner.liveness.commit(s, gen, crash, tail, unhealthy);
    }

    /** Boot-time advice: missing containers, restart policies that fight gaming mode, ports open to the network. */
    void warnAboutContainers(Collection<ModelSpec> models) {
        for (ModelSpec m : models) {
            try {
                ContainerState st = runtime.inspect(m.container());
                if (!"no".equals(st.restartPolicy()) && !st.restartPolicy().isEmpty())
                    LOG.warning("container " + m.container() + " has restart policy '" + st.restartPolicy()
                            + "': the daemon may restart it during gaming mode; use --restart no");
                for (String b : st.portBindings()) {
                    if (b.startsWith("0.0.0.0:") || b.startsWith(":::") || b.startsWith(":"))
                        LOG.warning("container " + m.container() + " publishes " + b + " on all interfaces; prefer 127.0.0.1");
                }
            } catch (DockerException e) {
                if (e.kind() == DockerException.Kind.NOT_FOUND)
                    LOG.warning("model " + m.id() + ": container '" + m.container() + "' does not exist (create it first)");
            }
        }
    }

    private String logTail(String name) {
        try {
            String t = runtime.logs(name, LOG_TAIL_LINES).strip();
            return t.length() > 4000 ? t.substring(t.length() - 4000) : t;
        } catch (DockerException e) {
            return "";
        }
    }

    private static String lastLine(String t) {
        int i = t.lastIndexOf('\n');
        return i < 0 ? t : t.substring(i + 1);
    }
}
