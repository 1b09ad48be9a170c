package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Scopes;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * ESPnet's relative positional table (the "new" Transformer-XL variant): for T frames, a (1, 2T-1, d) table whose row
 * j encodes the relative distance r = (T-1) - j as interleaved [sin(r w_m), cos(r w_m)], w_m = exp(-2m ln(10000)/d).
 * Computed in float32 with the same op sequence as upstream (positive part flipped, negative part from -position),
 * so values match upstream's precomputed table. No weights.
 */
final class EspnetRelPositionalEncoding {
    private EspnetRelPositionalEncoding() {}

    /** The (1, 2T-1, d) table for a sequence of {@code t} frames (float32). */
    static Tensor table(long t, long d) {
        return Scopes.run(() -> {
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            Tensor position = torch.arange(new Scalar(t), f32).unsqueeze(1); // (T, 1)
            Tensor divTerm = torch.arange(new Scalar(0), new Scalar(d), new Scalar(2), f32)
                    .mul(new Scalar(-(Math.log(10000.0) / d))).exp(); // (d/2)
            Tensor argPos = position.mul(divTerm); // (T, d/2)
            Tensor argNeg = position.mul(new Scalar(-1)).mul(divTerm);
            // interleave: [..., 2m] = sin, [..., 2m+1] = cos
            Tensor pos = torch.stack(new TensorArrayRef(new TensorVector(argPos.sin(), argPos.cos())), 2).reshape(t, d);
            Tensor neg = torch.stack(new TensorArrayRef(new TensorVector(argNeg.sin(), argNeg.cos())), 2).reshape(t, d);
            Tensor posFlipped = pos.flip(0);
            Tensor negTail = neg.narrow(0, 1, t - 1);
            return torch.cat(new TensorArrayRef(new TensorVector(posFlipped, negTail)), 0).unsqueeze(0).contiguous();
        });
    }
}
