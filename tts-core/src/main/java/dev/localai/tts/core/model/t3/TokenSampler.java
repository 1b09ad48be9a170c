package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Draws the next token from the processed probabilities (fp32 (V), summing to about 1); the stand-in for upstream's
 * {@code torch.multinomial(probs, 1)}.
 */
@FunctionalInterface
public interface TokenSampler {

    int sample(Tensor probs);

    /** The most probable token (first on ties), as the greedy golden does. */
    static TokenSampler greedy() {
        return probs -> {
            try (Tensor i = probs.argmax()) {
                return (int) i.item_long();
            }
        };
    }

    /**
     * Inverse-CDF sampling: c = cumsum(probs) (fp32, accumulated in double by LibTorch on CPU), threshold
     * t = fl32(u * c[V-1]) with u from {@code uniforms}, token = first i with c[i] &gt; t.
     */
    static TokenSampler inverseCdf(UniformSource uniforms) {
        return probs -> {
            float u = uniforms.nextUniform();
            if (dev.localai.tts.core.nn.LogitsKernel.takes(probs)) {
                return dev.localai.tts.core.nn.LogitsKernel.draw(probs, u); // the same rule, the same bits
            }
            try (Tensor c = probs.cumsum(-1);
                 Tensor last = c.select(-1, c.size(-1) - 1)) {
                float total = last.item_float();
                float threshold = u * total;
                try (Scalar t = new Scalar(threshold);
                     Tensor le = torch.le(c, t);
                     Tensor n = le.sum()) {
                    long idx = n.item_long();
                    if (idx >= c.size(-1)) {
                        // u * total rounded up to the total: take the last token with non-zero probability
                        try (Tensor nz = torch.gt(probs, new Scalar(0.0));
                             Tensor pos = nz.nonzero();
                             Tensor lastNz = pos.select(0, pos.size(0) - 1).select(0, 0)) {
                            idx = lastNz.item_long();
                        }
                    }
                    return (int) idx;
                }
            }
        };
    }

    /** Seeded, reproducible sampling (inverse CDF over {@link UniformSource#seeded}). */
    static TokenSampler seeded(long seed) {
        return inverseCdf(UniformSource.seeded(seed));
    }
}
