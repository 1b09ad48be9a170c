package dev.localai.tts.core.model.t3;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The batched decode step's matrix products {@code out (N, n) = W (N, K) x^T (K, n)}, split by rows of W over a few
 * threads on the CPU. LibTorch hands a CPU GEMM to OpenBLAS, which runs single-threaded under
 * {@code OPENBLAS_NUM_THREADS=1} (the setting that keeps it from fighting LibTorch's own OpenMP threads); without
 * the split one batched step would use one core while unbatched sessions on several threads use them all. Each
 * slice writes its own rows of {@code out}, so the result is the same as one product. Small weights, the GPU (one
 * kernel already fills the device) and non-fp32 weights (bf16 products go to oneDNN, which already runs on
 * LibTorch's threads; splitting them too oversubscribes the cores) are not split.
 */
final class SplitGemm implements AutoCloseable {
    /** Weights smaller than this (elements) are multiplied in one piece: splitting costs more than it gains. */
    static final long MIN_SPLIT_ELEMENTS = 1L << 20;

    private final int parts;
    private final ExecutorService helpers;

    SplitGemm(int parts) {
        this.parts = Math.max(1, parts);
        this.helpers = this.parts == 1 ? null : Executors.newFixedThreadPool(this.parts - 1, r -> {
            Thread t = new Thread(r, "t3-batch-gemm");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * out (N, n) contiguous = w (N, K) @ xT (K, n). Work-sharing, not fork-join: the caller computes its slice, then
     * any slice no helper has started yet, and waits only for slices a helper is already computing, so a busy
     * machine (helpers not scheduled) costs nothing beyond the unsplit product.
     */
    void mm(Tensor w, Tensor xT, Tensor out) {
        long rows = w.size(0);
        if (helpers == null || w.is_cuda() || w.numel() < MIN_SPLIT_ELEMENTS
                || w.scalar_type().value != torch.ScalarType.Float.value) {
            torch.mm_out(out, w, xT);
            return;
        }
        Slices job = new Slices(w, xT, out, rows, parts);
        for (int p = 1; p < parts; p++) {
            int slice = p;
            helpers.execute(() -> job.runIfUnclaimed(slice));
        }
        RuntimeException error = null;
        for (int p = 0; p < parts; p++) {
            try {
                job.runIfUnclaimed(p);
            } catch (RuntimeException e) {
                error = e;
            }
        }
        boolean interrupted = false;
        for (int p = 1; p < parts; p++) {
            while (true) {
                try {
                    job.done[p].get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the slice writes shared buffers: always wait for it
                } catch (java.util.concurrent.ExecutionException e) {
                    if (error == null) {
                        error = new IllegalStateException("batched GEMM slice failed", e.getCause());
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
    }

    /** One product's row slices, each computed exactly once by whichever thread claims it first. */
    private static final class Slices {
        final Tensor w;
        final Tensor xT;
        final Tensor out;
        final long rows;
        final long per;
        final java.util.concurrent.atomic.AtomicIntegerArray claimed;
        final java.util.concurrent.CompletableFuture<?>[] done;

        Slices(Tensor w, Tensor xT, Tensor out, long rows, int parts) {
            this.w = w;
            this.xT = xT;
            this.out = out;
            this.rows = rows;
            this.per = (rows + parts - 1) / parts;
            this.claimed = new java.util.concurrent.atomic.AtomicIntegerArray(parts);
            this.done = new java.util.concurrent.CompletableFuture<?>[parts];
            for (int p = 0; p < parts; p++) {
                done[p] = new java.util.concurrent.CompletableFuture<Void>();
            }
        }

        void runIfUnclaimed(int p) {
            if (!claimed.compareAndSet(p, 0, 1)) {
                return;
            }
            try (PointerScope scope = new PointerScope()) {
                long from = p * per;
                long len = Math.min(per, rows - from);
                if (len > 0) {
                    torch.mm_out(out.narrow(0, from, len), w.narrow(0, from, len), xT);
                }
                done[p].complete(null);
            } catch (RuntimeException | Error e) {
                done[p].completeExceptionally(e);
                throw e;
            }
        }
    }

    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
        }
    }
}
