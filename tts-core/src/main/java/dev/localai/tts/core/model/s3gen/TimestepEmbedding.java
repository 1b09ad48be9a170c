package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The estimator's time path: the sinusoidal embedding (Matcha {@code SinusoidalPosEmb}, scale 1000, [sin | cos])
 * followed by {@code time_mlp} = linear_2(SiLU(linear_1(.))).
 */
final class TimestepEmbedding {
    final Linear linear_1;
    final Linear linear_2;
    private final long sinusoidDim;

    TimestepEmbedding(ParamSource p, long inChannels, long timeEmbedDim) {
        this.sinusoidDim = inChannels;
        this.linear_1 = new Linear(p.sub("linear_1"), inChannels, timeEmbedDim, true);
        this.linear_2 = new Linear(p.sub("linear_2"), timeEmbedDim, timeEmbedDim, true);
    }

    /** MLP of an already made sinusoid. */
    Tensor forward(Tensor sinusoid) {
        return Scopes.run(() -> linear_2.forward(torch.silu(linear_1.forward(sinusoid))));
    }

    /**
     * Sinusoidal embedding of time values {@code t} (shape (B,), float32) to (B, dim): half = dim/2,
     * f_i = exp(-i ln(10000)/(half-1)), e = 1000 t f, [sin(e), cos(e)].
     */
    static Tensor sinusoid(Tensor t, long dim) {
        return Scopes.run(() -> {
            long half = dim / 2;
            double step = Math.log(10000) / (half - 1);
            Tensor freqs = OnDevice.of(torch.arange(new Scalar(half), new TensorOptions(torch.ScalarType.Float))
                    .mul(new Scalar(-step)).exp(), t);
            Tensor e = t.mul(new Scalar(1000)).unsqueeze(1).mul(freqs.unsqueeze(0));
            return torch.cat(new TensorArrayRef(new TensorVector(e.sin(), e.cos())), -1);
        });
    }

    long sinusoidDim() {
        return sinusoidDim;
    }

    static void shapes(Map<String, long[]> m, String prefix, long inChannels, long timeEmbedDim) {
        Linear.shapes(m, prefix + ".linear_1", inChannels, timeEmbedDim, true);
        Linear.shapes(m, prefix + ".linear_2", timeEmbedDim, timeEmbedDim, true);
    }
}
