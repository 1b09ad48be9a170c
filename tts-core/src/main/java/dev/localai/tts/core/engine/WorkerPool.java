package dev.localai.tts.core.engine;

import dev.localai.tts.core.nn.ThreadPools;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The synthesis slots: {@code slots} daemon worker threads and a bounded wait queue of {@code queue} places. A worker
 * hands back its OpenMP threads after each request ({@link ThreadPools}): an idle worker's pool would otherwise slow
 * every other thread's parallel work on a machine with few CPUs.
 */
final class WorkerPool {
    private final ThreadPoolExecutor workers;

    WorkerPool(int slots, int queue) {
        this(slots, queue, "tts-worker");
    }

    /** As {@link #WorkerPool(int, int)}, the threads named {@code name}. */
    WorkerPool(int slots, int queue, String name) {
        this.workers = new ThreadPoolExecutor(slots, slots, 30, TimeUnit.SECONDS,
                queue == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queue),
                r -> {
                    Thread t = new Thread(r, name);
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy()) {
            @Override
            protected void afterExecute(Runnable r, Throwable t) {
                ThreadPools.release();
            }
        };
    }

    /** Runs {@code task} in a free slot or queues it; throws {@link RejectedExecutionException} when full. */
    Future<?> submit(Runnable task) {
        return workers.submit(task);
    }

    /** Takes a task that has not started out of the queue, so its place is free at once. */
    void unqueue(Future<?> f) {
        workers.remove((Runnable) f);
    }

    int queued() {
        return workers.getQueue().size();
    }

    /** Interrupts the running tasks and drops the queued ones; false when the workers did not stop in time. */
    boolean shutdown(long seconds) throws InterruptedException {
        workers.shutdownNow();
        return workers.awaitTermination(seconds, TimeUnit.SECONDS);
    }
}
