package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Buffers of a batched decode step for up to {@code maxBatch} rows, allocated once by a {@link BatchDecoder} and
 * written in place every step; a step over n rows uses the first n rows of each (a view, no copy).
 */
final class BatchBuffers implements AutoCloseable {
    final int maxBatch;
    /** Residual stream (B, D). */
    final Tensor x;
    /** Fused q|k|v (B, 3D). */
    final Tensor qkv;
    /** Merged attention heads (B, D). */
    final Tensor attn;
    /** Projection output (B, D). */
    final Tensor proj;
    /** MLP inner activation (B, 4D). */
    final Tensor inner;
    /** Speech logits (B, V) in the model dtype. */
    final Tensor logits;
    /** Flat scratch of the transposed GEMM result, large enough for (V, B). */
    final Tensor scratch;
    /**
     * The fp32 CPU single-query attention's buffers, shared by the rows (they run one after another); null where
     * SDPA runs.
     */
    final AttentionScratch att;
    /** Splits the step's large CPU matrix products over threads. */
    final SplitGemm gemm;
    /** The native block kernels' arguments: each layer's cache addresses of the rows (layer after layer), capacities. */
    final long[] kRows;
    final long[] vRows;
    final int[] capacities;
    /** The sessions' KV caches as slots of one tensor per layer (a GPU's batched steps, {@link KvPool}), or null. */
    final KvPool pool;

    BatchBuffers(T3Config c, int maxBatch, ScalarType dtype, org.bytedeco.pytorch.Device device, int gemmThreads,
                 KvPool pool) {
        this.pool = pool;
        this.maxBatch = maxBatch;
        this.kRows = new long[c.nLayer() * maxBatch];
        this.vRows = new long[c.nLayer() * maxBatch];
        this.capacities = new int[maxBatch];
        this.gemm = new SplitGemm(device.is_cuda() ? 1 : gemmThreads);
        long widest = Math.max(c.speechTokensDictSize(), Math.max(3L * c.nEmbd(), c.nInner()));
        try (DeviceOptional dev = new DeviceOptional(device);
             TensorOptions o = new TensorOptions(dtype);
             TensorOptions opts = o.device(dev)) {
            x = torch.empty(new long[] {maxBatch, c.nEmbd()}, opts, null).retainReference();
            qkv = torch.empty(new long[] {maxBatch, 3L * c.nEmbd()}, opts, null).retainReference();
            attn = torch.empty(new long[] {maxBatch, c.nEmbd()}, opts, null).retainReference();
            proj = torch.empty(new long[] {maxBatch, c.nEmbd()}, opts, null).retainReference();
            inner = torch.empty(new long[] {maxBatch, c.nInner()}, opts, null).retainReference();
            logits = torch.empty(new long[] {maxBatch, c.speechTokensDictSize()}, opts, null).retainReference();
            scratch = torch.empty(new long[] {widest * maxBatch}, opts, null).retainReference();
        }
        att = AttentionScratch.ifUsed(c, dtype, device);
    }

    /** The first n rows of a (B, ...) buffer. */
    static Tensor rows(Tensor t, int n) {
        return t.narrow(0, 0, n);
    }

    @Override
    public void close() {
        x.close();
        qkv.close();
        attn.close();
        proj.close();
        inner.close();
        logits.close();
        scratch.close();
        if (att != null) {
            att.close();
        }
        gemm.close();
        if (pool != null) {
            pool.close();
        }
    }
}
