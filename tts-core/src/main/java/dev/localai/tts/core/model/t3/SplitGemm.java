package dev.localai.tts.core.model.t3;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The batched decode step's matrix products {@code out (N, n) = W (N, K) x^T (K, n)}, split by rows of W over a few
 * threads on the CPU. LibTorch hands a CPU GEMM to OpenBLAS, which runs single-threaded under
 * {@code OPENBLAS_NUM_THREADS=1} (the setting that keeps it from fighting LibTorch's own OpenMP threads); without
 * the split one batched step would use one core while unbatched sessions on several threads use them all. Each
 * slice writes its own rows of {@code out}, so the result is the same as one product. Small weights and the GPU
 * (one kernel already fills the device) are not split.
 */
final class SplitGemm implements AutoCloseable {
    /** Weights smaller than this (elements) are multiplied in one piece: splitting costs more than it gains. */
    static final long MIN_SPLIT_ELEMENTS = 1L << 20;

    private final int parts;
    private final ExecutorService helpers;
    private final Future<?>[] pending;

    SplitGemm(int parts) {
        this.parts = Math.max(1, parts);
        this.pending = new Future<?>[this.parts];
        this.helpers = this.parts == 1 ? null : Executors.newFixedThreadPool(this.parts - 1, r -> {
            Thread t = new Thread(r, "t3-batch-gemm");
            t.setDaemon(true);
            return t;
        });
    }

    /** out (N, n) contiguous = w (N, K) @ xT (K, n). */
    void mm(Tensor w, Tensor xT, Tensor out) {
        long rows = w.size(0);
        if (helpers == null || w.is_cuda() || w.numel() < MIN_SPLIT_ELEMENTS) {
            torch.mm_out(out, w, xT);
            return;
        }
        long per = (rows + parts - 1) / parts;
        for (int p = 1; p < parts; p++) {
            long from = p * per;
            long len = Math.min(per, rows - from);
            if (len <= 0) {
                pending[p] = null;
                continue;
            }
            pending[p] = helpers.submit(() -> {
                try (PointerScope scope = new PointerScope()) {
                    torch.mm_out(out.narrow(0, from, len), w.narrow(0, from, len), xT);
                }
            });
        }
        RuntimeException error = null;
        try (PointerScope scope = new PointerScope()) {
            torch.mm_out(out.narrow(0, 0, Math.min(per, rows)), w.narrow(0, 0, Math.min(per, rows)), xT);
        } catch (RuntimeException e) {
            error = e;
        }
        boolean interrupted = false;
        for (int p = 1; p < parts; p++) {
            if (pending[p] == null) {
                continue;
            }
            while (true) {
                try {
                    pending[p].get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the slice uses shared buffers: always wait for it
                } catch (java.util.concurrent.ExecutionException e) {
                    if (error == null) {
                        error = new IllegalStateException("batched GEMM slice failed", e.getCause());
                    }
                    break;
                }
            }
            pending[p] = null;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (error != null) {
            throw error;
        }
    }

    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
        }
    }
}
