package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Conv1d;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The encoder's time upsampler: nearest-neighbour repeat by {@code stride}, left-pad 2*stride zeros, then a
 * stride-1 conv of kernel 2*stride+1. Input and output (B, C, T) / (B, C, stride*T).
 */
final class Upsample1D {
    final Conv1d conv;
    private final int stride;

    Upsample1D(ParamSource p, long channels, long outChannels, int stride) {
        this.stride = stride;
        this.conv = Conv1d.padded(p.sub("conv"), channels, outChannels, 2L * stride + 1, 2L * stride, 0);
    }

    Tensor forward(Tensor x) {
        return Scopes.run(() -> conv.forward(x.repeat_interleave(stride, new org.bytedeco.pytorch.LongOptional(2),
                new org.bytedeco.pytorch.LongOptional())));
    }

    int stride() {
        return stride;
    }

    static void shapes(Map<String, long[]> m, String prefix, long channels, long outChannels, int stride) {
        Conv1d.shapes(m, prefix + ".conv", channels, outChannels, 2L * stride + 1);
    }
}
