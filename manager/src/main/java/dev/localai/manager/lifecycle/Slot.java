package dev.localai.manager.lifecycle;

import dev.localai.manager.api.ApiError;
import dev.localai.manager.config.ModelSpec;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mutable lifecycle record of one model. Every field is read and written only under the {@link ModelManager}'s
 * lock (except {@link #op}, which workers hold around docker start/stop).
 */
final class Slot {
    /** Per-start bookkeeping: waiters that joined this attempt receive its failure. */
    static final class Attempt {
        ApiError failure;
    }

    final ModelSpec spec;
    ModelState state = ModelState.STOPPED;
    /** Bumped by every transition; a worker commits its outcome only if the generation is still its own. */
    int gen;
    int inflight;
    int waiting;
    long lastUsedMillis;
    long readySinceMillis;
    Attempt attempt;
    int failures;
    long backoffUntilMillis;
    String lastError = "";
    /** Code of the last failure (model_start_failed, container_runtime_unavailable, ...), for backoff answers. */
    String lastFailureCode = "model_unavailable";
    String reason = "";
    boolean manuallyStopped;
    long drainDeadlineNanos;
    int livenessFailures;
    long nextLivenessMillis;
    boolean livenessRunning;
    /** The last stop could not be verified (docker unreachable): the container may still hold GPU memory. */
    boolean unverifiedStop;
    int starts;
    int crashes;
    final List<GrantedLease> leases = new CopyOnWriteArrayList<>();
    /** Held by workers around docker start/stop so a stop always follows a start it overtook. */
    final ReentrantLock op = new ReentrantLock();

    Slot(ModelSpec spec) {
        this.spec = spec;
    }

    /** Declared GPU memory (0 for CPU models). */
    long vram() {
        return spec.gpu() ? spec.vramMb() : 0;
    }

    ModelView view() {
        return new ModelView(spec, state, inflight, waiting, lastUsedMillis, readySinceMillis, lastError, reason, starts,
                crashes, backoffUntilMillis);
    }
}
