package dev.localai.tts.core.model.t3;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import dev.localai.tts.core.nn.ThreadPools;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Steps the T3 sessions of concurrent requests together: each session's thread hands its decode step (previous
 * token, position, KV cache) to this decoder and blocks; one decoder thread gathers the waiting steps and runs them
 * as one batched GPT-2 forward — the matrix products (qkv, attention projection, MLP, speech head) see all rows at
 * once, so the weights are read once per batch instead of once per session, while attention runs per row over each
 * session's own cache and length (sessions may be at any position). The logits go back into each session, which
 * samples on its own thread with its own sampler, so seeds give the same tokens as unbatched decoding (up to
 * floating-point rounding of the batched products; a batch of one takes the unbatched path bit for bit).
 *
 * <p>Gathering: when a step arrives the decoder waits a short while for the other registered sessions (those
 * started with this decoder and not yet finished) to arrive too — at most {@code gatherWindow} fraction of the last
 * batch's compute time, bounded by {@link #MAX_GATHER_NANOS} — then runs whatever has arrived, up to
 * {@code maxBatch} rows. A session busy elsewhere (vocoding a streamed block) therefore delays the others by a
 * bounded, small amount and simply joins a later batch.
 *
 * <p>A session registered alone steps on its own thread ({@link #localSteps()}): there is nothing to batch it with,
 * and the hand-over each way and a second thread's OpenMP pool would only slow it. The decoder thread hands its
 * OpenMP workers back when at most one session is left ({@link ThreadPools}).
 *
 * <p>Thread-safe. {@link #close()} stops the decoder thread; steps still waiting then fail with
 * {@link CancellationException}. Close every session before closing the T3.
 */
public final class BatchDecoder implements AutoCloseable {
    /** Upper bound of the gather wait per batch. */
    public static final long MAX_GATHER_NANOS = 5_000_000L;
    private static final long MIN_GATHER_NANOS = 50_000L;

    private final T3 model;
    private final int maxBatch;
    private final double gatherFraction;
    private final BatchBuffers buffers;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final Condition finished = lock.newCondition();
    private final List<Step> pending = new ArrayList<>();
    private final Thread thread;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong rows = new AtomicLong();
    private final AtomicLong busyNanos = new AtomicLong();
    private final AtomicLong localSteps = new AtomicLong();
    /** Whether the decoder thread ran a batch since it last handed back its OpenMP workers (decoder thread only). */
    private boolean computed;
    private int registered;
    private boolean closed;
    private long lastBatchNanos = MIN_GATHER_NANOS;
    // the decoder thread's reusable per-batch arrays
    private final int[] tokens;
    private final int[] positions;
    private final KvCache[] caches;
    private final Step[] batch;

    /** One session's step handed to the decoder thread. */
    private static final class Step {
        final T3Session session;
        final int token;
        final int pos;
        boolean taken;
        boolean done;
        Throwable error;

        Step(T3Session session, int token, int pos) {
            this.session = session;
            this.token = token;
            this.pos = pos;
        }
    }

    private BatchDecoder(T3 model, int maxBatch, double gatherFraction, boolean pooled) {
        this.model = model;
        this.maxBatch = maxBatch;
        this.gatherFraction = gatherFraction;
        this.buffers = model.newBatchBuffers(maxBatch, dev.localai.tts.core.runtime.Torch.threads(), pooled);
        this.tokens = new int[maxBatch];
        this.positions = new int[maxBatch];
        this.caches = new KvCache[maxBatch];
        this.batch = new Step[maxBatch];
        this.thread = new Thread(this::loop, "t3-batch-decoder");
        this.thread.setDaemon(true);
    }

    /**
     * Starts a decoder thread for {@code model}.
     *
     * @param maxBatch       most sessions stepped in one forward (&gt;= 1)
     * @param gatherFraction how long to wait for stragglers, as a fraction of the last batch's compute time (0 runs
     *                       whatever has arrived at once)
     */
    public static BatchDecoder start(T3 model, int maxBatch, double gatherFraction) {
        return start(model, maxBatch, gatherFraction, model.device().isCuda() && POOLED_ON_GPU);
    }

    /**
     * {@code -Dlocalai.tts.kvPool=true} puts a GPU's sessions' caches in a {@link KvPool}. Off by default: the one
     * pooled form measured on a GPU (LibTorch's fused attention with a mask) was slower than per-row attention at 4
     * sessions, and the spelled-out attention that replaced it has not run on a GPU yet (docs/performance.md "GPU").
     */
    private static final boolean POOLED_ON_GPU = "true".equals(System.getProperty("localai.tts.kvPool", "").trim());

    /**
     * {@link #start(T3, int, double)} with the sessions' KV caches in a {@link KvPool} or not: on a GPU where
     * {@code -Dlocalai.tts.kvPool=true} asks for it, and chosen here by tests on the CPU.
     */
    static BatchDecoder start(T3 model, int maxBatch, double gatherFraction, boolean pooled) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1: " + maxBatch);
        }
        if (!(gatherFraction >= 0 && gatherFraction <= 10)) {
            throw new IllegalArgumentException("gatherFraction must be in [0, 10]: " + gatherFraction);
        }
        BatchDecoder d = new BatchDecoder(model, maxBatch, gatherFraction, pooled);
        d.thread.start();
        return d;
    }

    /** A decoder with the default gather policy (wait up to half the last batch's compute time). */
    public static BatchDecoder start(T3 model, int maxBatch) {
        return start(model, maxBatch, 0.5);
    }

    T3 model() {
        return model;
    }

    /**
     * A KV cache for a session of this decoder: a slot of its pool where it has one with a slot free and
     * {@code positions} fit, else null (the session then makes its own).
     */
    KvCache cacheFor(int positions) {
        lock.lock();
        try {
            // a closed decoder's pool is freed (or about to be): the session then fails to register
            return buffers.pool == null || closed ? null : buffers.pool.lease(positions);
        } finally {
            lock.unlock();
        }
    }

    /** The batch buffers (tests drive batched steps through them). */
    BatchBuffers buffers() {
        return buffers;
    }

    /** Sessions' caches leased from the pool now (0 without a pool). */
    int pooledCaches() {
        return buffers.pool == null ? 0 : buffers.pool.leased();
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Batched forwards run so far. */
    public long batches() {
        return batches.get();
    }

    /** Session steps run so far (the sum of all batch sizes). */
    public long steps() {
        return rows.get();
    }

    /** Steps a session ran on its own thread because it was the only one registered. */
    public long localSteps() {
        return localSteps.get();
    }

    /** Mean rows per batch so far (0 before the first). */
    public double meanBatch() {
        long b = batches.get();
        return b == 0 ? 0 : rows.get() / (double) b;
    }

    /** Nanoseconds the decoder thread spent computing. */
    public long busyNanos() {
        return busyNanos.get();
    }

    void register() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the batch decoder is closed");
            }
            registered++;
        } finally {
            lock.unlock();
        }
    }

    void deregister() {
        lock.lock();
        try {
            registered--;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs one decode step of {@code session} (token at pos) in the next batch; returns when the session's raw
     * logits are written. An interrupt before the step is taken withdraws it (CancellationException); once taken,
     * the call waits for the batch to finish, since it uses the session's cache.
     */
    void step(T3Session session, int token, int pos) {
        Step s = new Step(session, token, pos);
        boolean interrupted = false;
        lock.lock();
        try {
            if (closed) {
                throw new CancellationException("the batch decoder is closed");
            }
            if (registered <= 1 && pending.isEmpty()) {
                // the only session: nothing to batch with, so it steps on its own thread (the bits of a batch of
                // one), without a hand-over each way and without a second thread's OpenMP pool (ThreadPools)
                lock.unlock();
                try {
                    session.stepLocal(token, pos);
                } finally {
                    lock.lock();
                }
                localSteps.incrementAndGet();
                return;
            }
            pending.add(s);
            arrived.signalAll();
            while (!s.done) {
                try {
                    finished.await();
                } catch (InterruptedException e) {
                    if (!s.taken) {
                        pending.remove(s);
                        Thread.currentThread().interrupt();
                        throw new CancellationException("interrupted while waiting for a decode step");
                    }
                    interrupted = true;
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (s.error instanceof RuntimeException e) {
            throw e;
        }
        if (s.error instanceof Error e) {
            throw e;
        }
        if (s.error != null) {
            throw new IllegalStateException("batched decode step failed", s.error);
        }
    }

    private void loop() {
        while (true) {
            int n;
            lock.lock();
            try {
                while (pending.isEmpty() && !closed) {
                    if (computed && registered <= 1) {
                        // idle until a second session registers (between batches the sessions are only sampling):
                        // hand back this thread's OpenMP workers, whose idle pool would slow a sole session stepping
                        // on its own thread; the next batch makes a new one
                        computed = false;
                        ThreadPools.release();
                    }
                    arrived.awaitUninterruptibly();
                }
                if (closed) {
                    for (Step s : pending) {
                        s.error = new CancellationException("the batch decoder is closed");
                        s.done = true;
                    }
                    pending.clear();
                    finished.signalAll();
                    return;
                }
                long wait = Math.min(MAX_GATHER_NANOS, Math.max(MIN_GATHER_NANOS,
                        (long) (lastBatchNanos * gatherFraction)));
                long deadline = System.nanoTime() + wait;
                while (!closed && pending.size() < Math.min(maxBatch, registered)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        arrived.awaitNanos(left);
                    } catch (InterruptedException e) {
                        // only close() interrupts; the closed flag is checked above
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                Thread.interrupted();
                n = Math.min(maxBatch, pending.size());
                for (int i = 0; i < n; i++) {
                    Step s = pending.remove(0);
                    s.taken = true;
                    batch[i] = s;
                }
            } finally {
                lock.unlock();
            }
            computed = true;
            long t0 = System.nanoTime();
            Throwable error = null;
            try {
                run(n);
            } catch (Throwable t) {
                error = t;
            }
            long dt = System.nanoTime() - t0;
            busyNanos.addAndGet(dt);
            batches.incrementAndGet();
            rows.addAndGet(n);
            lock.lock();
            try {
                lastBatchNanos = dt;
                for (int i = 0; i < n; i++) {
                    batch[i].error = error;
                    batch[i].done = true;
                    batch[i] = null;
                }
                finished.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void run(int n) {
        try (PointerScope scope = new PointerScope()) {
            if (n == 1) {
                Step s = batch[0];
                s.session.stepLocal(s.token, s.pos);
                return;
            }
            for (int i = 0; i < n; i++) {
                tokens[i] = batch[i].token;
                positions[i] = batch[i].pos;
                caches[i] = batch[i].session.cache();
            }
            Tensor logits = model.stepLogitsRows(n, tokens, positions, caches, buffers);
            for (int i = 0; i < n; i++) {
                batch[i].session.lastLogits().copy_(logits.select(0, i));
                caches[i] = null;
            }
        }
    }

    /** Stops the decoder thread (waiting steps fail with CancellationException) and frees the batch buffers. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            buffers.close();
        }
    }
}
