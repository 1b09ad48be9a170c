package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Per-session buffers of a single-token decode step, allocated once and written in place every step. */
final class DecodeBuffers implements AutoCloseable {
    /** Residual stream (D). */
    final Tensor x;
    /** Fused q|k|v (3D). */
    final Tensor qkv;
    /** Projection output (D), added to the residual. */
    final Tensor proj;
    /** MLP inner activation (4D). */
    final Tensor inner;
    /** Speech logits (V) in the model dtype. */
    final Tensor logits;
    /** The fp32 CPU single-query attention's buffers (null where SDPA runs). */
    final AttentionScratch att;
    /** {@link #x} as one row (1, D), for the native block kernel. */
    final Tensor xRow;
    /** The native block kernels' arguments for one row: each layer's cache addresses, capacity, position. */
    final long[] kLayers;
    final long[] vLayers;
    /** One layer's cache addresses, where the blocks run one call each ({@code DecoderBlockKernel.stacked()} off). */
    final long[] kRow = new long[1];
    final long[] vRow = new long[1];
    final int[] capacityRow = new int[1];
    final int[] posRow = new int[1];

    DecodeBuffers(T3Config c, ScalarType dtype, org.bytedeco.pytorch.Device device) {
        kLayers = new long[c.nLayer()];
        vLayers = new long[c.nLayer()];
        try (DeviceOptional dev = new DeviceOptional(device);
             TensorOptions o = new TensorOptions(dtype);
             TensorOptions opts = o.device(dev)) {
            x = torch.empty(new long[] {c.nEmbd()}, opts, null).retainReference();
            qkv = torch.empty(new long[] {3L * c.nEmbd()}, opts, null).retainReference();
            proj = torch.empty(new long[] {c.nEmbd()}, opts, null).retainReference();
            inner = torch.empty(new long[] {c.nInner()}, opts, null).retainReference();
            logits = torch.empty(new long[] {c.speechTokensDictSize()}, opts, null).retainReference();
            xRow = x.view(1, c.nEmbd()).retainReference();
        }
        att = AttentionScratch.ifUsed(c, dtype, device);
    }

    @Override
    public void close() {
        xRow.close();
        x.close();
        qkv.close();
        proj.close();
        inner.close();
        logits.close();
        if (att != null) {
            att.close();
        }
    }
}
