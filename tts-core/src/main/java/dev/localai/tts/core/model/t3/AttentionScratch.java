package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Buffers of one decode step's single-query attention ({@link GPT2Attention#oneQueryAttention}), allocated once per
 * session (or per batch decoder, whose rows run one after another) for the longest sequence the model allows:
 * scores and their softmax (heads, 1, positions) and the output (heads, 1, headDim).
 */
final class AttentionScratch implements AutoCloseable {
    /** The buffers for a model computing in {@code dtype} on {@code device}, or null where SDPA runs instead. */
    static AttentionScratch ifUsed(T3Config c, ScalarType dtype, org.bytedeco.pytorch.Device device) {
        return device.is_cuda() || dtype.value != ScalarType.Float.value ? null : new AttentionScratch(c, dtype, device);
    }

    final Tensor scores;
    final Tensor probs;
    final Tensor out;

    private AttentionScratch(T3Config c, ScalarType dtype, org.bytedeco.pytorch.Device device) {
        try (DeviceOptional dev = new DeviceOptional(device);
             TensorOptions o = new TensorOptions(dtype);
             TensorOptions opts = o.device(dev)) {
            scores = torch.empty(new long[] {c.nHead(), 1, c.nPositions()}, opts, null).retainReference();
            probs = torch.empty(new long[] {c.nHead(), 1, c.nPositions()}, opts, null).retainReference();
            out = torch.empty(new long[] {c.nHead(), 1, c.headDim()}, opts, null).retainReference();
        }
    }

    @Override
    public void close() {
        scores.close();
        probs.close();
        out.close();
    }
}
