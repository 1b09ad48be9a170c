package dev.localai.tts.core.engine;

import dev.localai.tts.core.nn.ThreadPools;
import java.util.ArrayDeque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs vocoding jobs in order on one helper thread: {@link #submit} first waits for everything submitted before
 * (so at most one heavy job is in flight, a failure surfaces at the next submit, and audio leaves in order);
 * {@link #then} queues a small action behind them without waiting (the seams and progress of a request's text
 * chunks); {@link #finish} waits for all; {@link #close} always waits for running work before its owner frees
 * what that work uses. Disabled, or for a job submitted {@code inline}, work runs on the caller's thread. One per
 * utterance, or one per request when its text chunks share it ({@link ChunkedSynthesis}).
 */
final class FlushPipeline implements AutoCloseable {
    private final ExecutorService thread;
    private final ArrayDeque<Future<Long>> pending = new ArrayDeque<>();
    private long samples;
    /** Whether a job has been submitted: the first block of a request runs in line only before that. */
    private boolean submitted;
    /** Set by a failed job: the work queued behind it is skipped. */
    private volatile boolean failed;
    /** Sizes the request's streamed blocks from what its blocks so far measured. */
    final StreamPacer pacer;
    /** The engine's choice of how the request's first block runs its flow; null: as every other block. */
    final FirstBlockPlan firstPlan;

    /**
     * A pipeline that vocodes on its helper thread when {@code enabled}, pacing its blocks for a flow whose work
     * over L tokens is {@code L + flowQuadratic L^2} ({@code S3GenFlow.multiplyAddsQuadratic}); its first block
     * runs as every other block (the whole voice prompt, the checkpoint's solver steps).
     */
    FlushPipeline(boolean enabled, double flowQuadratic) {
        this(enabled, flowQuadratic, null);
    }

    /**
     * As {@link #FlushPipeline(boolean, double)}, the first block's flow chosen by {@code firstPlan}, and later
     * blocks' made cheaper as it allows ({@link FirstBlockPlan#cheapening}) where a listener would wait.
     */
    FlushPipeline(boolean enabled, double flowQuadratic, FirstBlockPlan firstPlan) {
        this.firstPlan = firstPlan;
        this.pacer = new StreamPacer(enabled, flowQuadratic, firstPlan == null ? null : firstPlan.cheapening());
        this.thread = enabled ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tts-stream-flush");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /**
     * Runs {@code job} after everything submitted before: on the helper thread, or here when {@code inline}.
     * Returns true when it was handed to the helper (it may still be running).
     */
    boolean submit(Callable<Long> job, boolean inline) {
        await();
        submitted = true;
        if (thread == null || inline) {
            try {
                samples += job.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return false;
        }
        pending.add(thread.submit(() -> guarded(job)));
        return true;
    }

    /**
     * Runs a queued job unless one before it failed (its audio would come after a hole); then hands back this
     * thread's OpenMP workers ({@link ThreadPools}: an idle pool here would slow T3's decoding on the request's
     * thread until the next block).
     */
    private Long guarded(Callable<Long> job) throws Exception {
        try {
            if (failed) {
                return 0L;
            }
            try {
                return job.call();
            } catch (Exception | Error e) {
                failed = true;
                throw e;
            }
        } finally {
            ThreadPools.release();
        }
    }

    /** Queues {@code action} behind the work submitted so far without waiting for it (here, when disabled). */
    void then(Runnable action) {
        if (thread == null) {
            action.run();
            return;
        }
        pending.add(thread.submit(() -> guarded(() -> {
            action.run();
            return 0L;
        })));
    }

    /** True before the first {@link #submit}: no audio job has run or is running. */
    boolean untouched() {
        return !submitted;
    }

    /** Samples of the jobs finished so far. */
    long samples() {
        return samples;
    }

    /** Waits for all submitted work; returns the samples of every job. */
    long finish() {
        await();
        return samples;
    }

    /** Waits for all submitted work, ignoring its failures: the caller is already failing with its own. */
    void awaitQuietly() {
        try {
            await();
        } catch (RuntimeException | Error e) {
            // the caller's exception is the one to report
        }
    }

    private void await() {
        RuntimeException failure = null;
        Error error = null;
        boolean interrupted = false;
        while (!pending.isEmpty()) {
            Future<Long> f = pending.poll();
            while (true) {
                try {
                    samples += f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the work uses its owner's tensors: always wait for it
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof Error err) {
                        error = error == null ? err : error;
                    } else if (failure == null) {
                        failure = c instanceof RuntimeException r ? r : new IllegalStateException(c);
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (error != null) {
            throw error;
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        if (thread == null) {
            return;
        }
        try {
            awaitQuietly();
        } finally {
            thread.shutdown();
        }
    }
}
