package dev.localai.tts.core.model.t3;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * T3's fp32 CPU matrix products split by rows over a few threads: the batched decode step's
 * {@code out (N, n) = W (N, K) x^T (K, n)} ({@link #mm}), one session's decode-step matrix-vector products
 * ({@link #mv}, rows of W) and its prefill products ({@link #linear}, rows of x). LibTorch hands a CPU GEMM to
 * OpenBLAS, which runs single-threaded under {@code OPENBLAS_NUM_THREADS=1} (the setting that keeps it from fighting
 * LibTorch's own OpenMP threads, see {@code runtime.Torch}); without the split one session would use one core. Each
 * slice writes its own rows of {@code out}, so a split matrix-vector product is bitwise the unsplit one. Small
 * weights, the GPU (one kernel already fills the device) and non-fp32 weights (bf16 products go to oneDNN, which
 * already runs on LibTorch's threads; splitting them too oversubscribes the cores) are not split.
 */
final class SplitGemm implements AutoCloseable {
    /** Weights smaller than this (elements) are multiplied in one piece: splitting costs more than it gains. */
    static final long MIN_SPLIT_ELEMENTS = 1L << 20;

    private final int parts;
    private final ExecutorService helpers;
    private static volatile SplitGemm shared;

    /**
     * The splitter of single-session products (prefill and decode steps): {@code Torch.splitThreads()} parts as
     * set when first used (the engine sets the count before loading), or the system property
     * {@code localai.tts.t3SplitThreads} (1 turns splitting off). Shared by every session: work-sharing lets
     * concurrent sessions use it without waiting for each other.
     */
    static SplitGemm shared() {
        SplitGemm s = shared;
        if (s == null) {
            synchronized (SplitGemm.class) {
                s = shared;
                if (s == null) {
                    int n = Integer.getInteger("localai.tts.t3SplitThreads",
                            dev.localai.tts.core.runtime.Torch.splitThreads());
                    s = new SplitGemm(n);
                    shared = s;
                }
            }
        }
        return s;
    }

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
        if (!splits(w)) {
            torch.mm_out(out, w, xT);
            return;
        }
        run(new Slices((from, len) -> torch.mm_out(out.narrow(0, from, len), w.narrow(0, from, len), xT), rows,
                parts));
    }

    /**
     * out (N) = w (N, K) x (K) (+ bias (N) when not null), split by rows of w: one decode step's product. Each row is
     * the same dot product as unsplit, so the result is too.
     */
    void mv(Tensor w, Tensor bias, Tensor x, Tensor out) {
        if (!splits(w)) {
            mvSlice(w, bias, x, out);
            return;
        }
        run(new Slices((from, len) -> mvSlice(w.narrow(0, from, len), bias == null ? null : bias.narrow(0, from, len),
                x, out.narrow(0, from, len)), w.size(0), parts));
    }

    private static void mvSlice(Tensor w, Tensor bias, Tensor x, Tensor out) {
        if (bias == null) {
            torch.mv_out(out, w, x);
        } else {
            torch.addmv_out(out, bias, w, x, Conv1D.ONE, Conv1D.ONE);
        }
    }

    /**
     * x (L, K) w^T + bias -> a new (L, N), split by rows of x (a prefill's product; each slice reads all of w, which
     * a compute-bound GEMM can afford). Falls back to one {@code linear} for few rows, small or non-fp32 weights.
     */
    Tensor linear(Tensor x, Tensor w, Tensor bias) {
        long rows = x.size(0);
        if (!splits(w) || x.dim() != 2 || rows < 2L * parts) {
            return bias == null ? torch.linear(x, w) : torch.linear(x, w, new org.bytedeco.pytorch.TensorOptional(bias));
        }
        Tensor out = torch.empty(rows, w.size(0));
        Tensor wt = w.t();
        run(new Slices((from, len) -> {
            Tensor o = out.narrow(0, from, len);
            if (bias == null) {
                torch.mm_out(o, x.narrow(0, from, len), wt);
            } else {
                torch.addmm_out(o, bias, x.narrow(0, from, len), wt, Conv1D.ONE, Conv1D.ONE);
            }
        }, rows, parts));
        return out;
    }

    /**
     * Runs {@code op} over {@code [0, rows)} in this splitter's parts (each part its own rows, so the result is the
     * unsplit one), or in one piece when there is one part or less than {@code minWork} elements of work per row
     * times rows. For work that is not a weight product, e.g. the heads of one decode step's attention.
     */
    void forEachPart(long rows, long workPerRow, SliceOp op) {
        if (helpers == null || rows < parts || rows * workPerRow < MIN_SPLIT_WORK) {
            op.run(0, rows);
            return;
        }
        run(new Slices(op, rows, parts));
    }

    /** Less work than this (elements touched) is not split in {@link #forEachPart}. */
    static final long MIN_SPLIT_WORK = 1L << 16;

    private boolean splits(Tensor w) {
        return helpers != null && !w.is_cuda() && w.numel() >= MIN_SPLIT_ELEMENTS
                && w.scalar_type().value == torch.ScalarType.Float.value;
    }

    private void run(Slices job) {
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
                        error = new IllegalStateException("split GEMM slice failed", e.getCause());
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

    /** Computes rows [from, from + len) of a product. */
    interface SliceOp {
        void run(long from, long len);
    }

    /** One product's row slices, each computed exactly once by whichever thread claims it first. */
    private static final class Slices {
        final SliceOp op;
        final long rows;
        final long per;
        final java.util.concurrent.atomic.AtomicIntegerArray claimed;
        final java.util.concurrent.CompletableFuture<?>[] done;

        Slices(SliceOp op, long rows, int parts) {
            this.op = op;
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
                    op.run(from, len);
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
