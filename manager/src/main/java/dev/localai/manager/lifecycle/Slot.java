package dev.localai.manager.lifecycle;

import dev.localai.manager.config.ModelSpec;
import dev.localai.tts.api.ApiException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One model's lifecycle record and its state machine:
 * {@code stopped -> starting -> ready -> draining -> stopping -> stopped}, plus {@code failed} (with a backoff).
 * Only the methods below change it; each transition bumps the generation, so the outcome of slow work started for
 * an older generation ({@link #isCurrent}) is dropped. Every method is called under the {@link ModelManager}'s lock
 * (except {@link #op}, which workers hold around docker start/stop); the slot itself has no effects (no events, no
 * threads): the manager applies those around each transition.
 */
final class Slot {
    /** Stop reasons after which the model is FAILED (the backoff was counted when the stop began), not STOPPED. */
    private static final Set<String> FAILING_STOPS = Set.of("start_timeout", "unhealthy");

    /** Per-start bookkeeping: waiters that joined this attempt receive its failure. */
    static final class Attempt {
        private ApiException failure;

        ApiException failure() {
            return failure;
        }

        /** The first failure wins. */
        void failIfOpen(ApiException e) {
            if (failure == null) failure = e;
        }
    }

    final ModelSpec spec;
    /** Held by workers around docker start/stop so a stop always follows a start it overtook. */
    final ReentrantLock op = new ReentrantLock();

    private ModelState state = ModelState.STOPPED;
    private int gen;
    private int inflight;
    private int waiting;
    private long lastUsedMillis;
    private long readySinceMillis;
    private long startedMillis;
    private Attempt attempt;
    private int failures;
    private long backoffUntilMillis;
    private String lastError = "";
    /** Code of the last failure (model_start_failed, container_runtime_unavailable, ...), for backoff answers. */
    private String lastFailureCode = "model_unavailable";
    private String reason = "";
    private boolean manuallyStopped;
    private long drainDeadlineNanos;
    private int livenessFailures;
    private long nextLivenessMillis;
    private boolean livenessRunning;
    /** The last stop could not be verified (docker unreachable): the container may still hold GPU memory. */
    private boolean unverifiedStop;
    private int starts;
    private int crashes;
    private final List<GrantedLease> leases = new CopyOnWriteArrayList<>();

    Slot(ModelSpec spec) {
        this.spec = spec;
    }

    // ------------------------------------------------------------------ reading

    ModelState state() {
        return state;
    }

    int gen() {
        return gen;
    }

    boolean isCurrent(int g) {
        return gen == g;
    }

    int inflight() {
        return inflight;
    }

    int waiting() {
        return waiting;
    }

    long lastUsedMillis() {
        return lastUsedMillis;
    }

    Attempt attempt() {
        return attempt;
    }

    int failures() {
        return failures;
    }

    long backoffUntilMillis() {
        return backoffUntilMillis;
    }

    String lastError() {
        return lastError;
    }

    String lastFailureCode() {
        return lastFailureCode;
    }

    String reason() {
        return reason;
    }

    boolean manuallyStopped() {
        return manuallyStopped;
    }

    long drainDeadlineNanos() {
        return drainDeadlineNanos;
    }

    boolean unverifiedStop() {
        return unverifiedStop;
    }

    /** Declared GPU memory (0 for CPU models). */
    long vram() {
        return spec.gpu() ? spec.vramMb() : 0;
    }

    /** READY, idle past its timeout, nobody waiting, and allowed to idle-stop. */
    boolean idleExpired(long now) {
        return state == ModelState.READY && !spec.keepWarm() && !spec.idleTimeout().isZero() && inflight == 0
                && waiting == 0 && now - lastUsedMillis >= spec.idleTimeout().toMillis();
    }

    ModelView view() {
        return new ModelView(spec, state, inflight, waiting, lastUsedMillis, readySinceMillis, lastError, reason, starts,
                crashes, backoffUntilMillis, startedMillis);
    }

    // ------------------------------------------------------------------ transitions

    /** Any state -> STARTING with a fresh attempt; returns the attempt's generation. */
    int toStarting(String why, long now) {
        state = ModelState.STARTING;
        startedMillis = now;
        gen++;
        reason = why;
        attempt = new Attempt();
        livenessFailures = 0;
        starts++;
        return gen;
    }

    /** -> STOPPING; a start in progress fails its waiters with {@code abort}. Returns the stop's generation. */
    int toStopping(String why, ApiException abort) {
        if (state == ModelState.STARTING && attempt != null) attempt.failIfOpen(abort);
        state = ModelState.STOPPING;
        gen++;
        reason = why;
        return gen;
    }

    /** READY -> DRAINING until in-flight reaches 0 or the deadline (0 = none); returns the drain's generation. */
    int toDraining(String why, long deadlineNanos) {
        state = ModelState.DRAINING;
        gen++;
        reason = why;
        drainDeadlineNanos = deadlineNanos;
        return gen;
    }

    /** STARTING (generation {@code g}) -> READY; false when the start was superseded. */
    boolean toReady(int g, long now) {
        if (gen != g) return false;
        state = ModelState.READY;
        unverifiedStop = false;
        failures = 0;
        lastError = "";
        lastUsedMillis = now;
        readySinceMillis = now;
        nextLivenessMillis = now + spec.liveness().interval().toMillis();
        return true;
    }

    /** -> FAILED with the next backoff; the current attempt's waiters receive {@code error}. */
    void toFailed(ApiException error, String message, long now) {
        failures++;
        state = ModelState.FAILED;
        gen++;
        lastError = message;
        lastFailureCode = error.error().code();
        backoffUntilMillis = now + spec.backoff(failures).toMillis();
        if (attempt != null) attempt.failIfOpen(error);
    }

    /** An adopted container stopped before it was confirmed: -> STOPPED; false when superseded. */
    boolean toGone(int g, ApiException error) {
        if (gen != g) return false;
        state = ModelState.STOPPED;
        gen++;
        if (attempt != null) attempt.failIfOpen(error);
        return true;
    }

    /** The start deadline passed: waiters get {@code error}, the backoff is counted, -> STOPPING. Returns its gen. */
    int startTimedOut(ApiException error, String message, long now) {
        if (attempt != null) attempt.failure = error;
        failures++;
        lastError = message;
        lastFailureCode = error.error().code();
        backoffUntilMillis = now + spec.backoff(failures).toMillis();
        return toStopping("start_timeout", error);
    }

    /**
     * A stop of generation {@code g} finished: STOPPING -> STOPPED, or FAILED after a failing stop or when docker
     * could not confirm it ({@code unverified} non-null, with {@code error}). False when superseded.
     */
    boolean stopFinished(int g, String unverified, ApiException error, long now) {
        if (gen != g) return false;
        unverifiedStop = unverified != null;
        if (unverified != null) {
            toFailed(error, "stop not verified: " + unverified, now);
        } else {
            state = FAILING_STOPS.contains(reason) ? ModelState.FAILED : ModelState.STOPPED;
            gen++;
        }
        return true;
    }

    /** Docker says the container is not running: an unverified stop is settled. */
    void confirmedNotRunning() {
        unverifiedStop = false;
    }

    /** A READY model's container died: -> FAILED with the next backoff. */
    void crashed(ApiException error, String message, long now) {
        crashes++;
        toFailed(error, message, now);
    }

    /** A failed health check of a READY model; true when the threshold is reached (the caller stops it). */
    boolean unhealthy(long now) {
        livenessFailures++;
        if (livenessFailures < spec.liveness().failureThreshold()) return false;
        crashes++;
        failures++;
        lastError = "health check failed " + livenessFailures + " times";
        backoffUntilMillis = now + spec.backoff(failures).toMillis();
        return true;
    }

    void healthy() {
        livenessFailures = 0;
    }

    /** Claims the next liveness check of a READY model (one at a time); false when not due or already running. */
    boolean claimLiveness(long now, boolean onlyWhenDue) {
        if (state != ModelState.READY || livenessRunning) return false;
        if (onlyWhenDue && (spec.liveness().interval().isZero() || now < nextLivenessMillis)) return false;
        livenessRunning = true;
        return true;
    }

    /** A liveness check ended: the next one is due an interval from now. */
    void livenessDone(long now) {
        livenessRunning = false;
        nextLivenessMillis = now + spec.liveness().interval().toMillis();
    }

    // ------------------------------------------------------------------ requests and control

    /** In flight plus waiting have reached the model's concurrency plus queue. */
    boolean queueFull() {
        return inflight + waiting >= spec.maxConcurrency() + spec.maxQueue();
    }

    /** A request starts waiting (and overrides a manual stop). */
    void join() {
        waiting++;
        manuallyStopped = false;
    }

    void leave() {
        waiting--;
    }

    /** READY with a free in-flight place. */
    boolean canGrant() {
        return state == ModelState.READY && inflight < spec.maxConcurrency();
    }

    GrantedLease grant(Consumer<GrantedLease> release) {
        inflight++;
        GrantedLease l = new GrantedLease(this, release);
        leases.add(l);
        return l;
    }

    /** A lease ends: idle time counts from now. False when it was released already. */
    boolean release(GrantedLease l, long now) {
        if (!leases.remove(l)) return false;
        inflight--;
        lastUsedMillis = now;
        return true;
    }

    /** The model must stop under its requests (drain deadline, crash, forced stop): abort them. */
    void cancelLeases() {
        for (GrantedLease l : leases) l.cancel();
    }

    void stopManually() {
        manuallyStopped = true;
    }

    /** Gaming mode ended: a keep-warm model comes back even if it was stopped by hand or is in backoff. */
    void rearmKeepWarm() {
        if (!spec.keepWarm()) return;
        manuallyStopped = false;
        if (state == ModelState.FAILED) backoffUntilMillis = 0;
    }
}
