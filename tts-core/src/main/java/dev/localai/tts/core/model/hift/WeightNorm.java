package dev.localai.tts.core.model.hift;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Weight normalisation in PyTorch's parametrization layout: {@code original0} = g (magnitude, one value per
 * slice along dim 0), {@code original1} = v (direction). The effective weight is {@code v * (g / ||v||)} with the
 * norm taken over every dimension except dim 0. For a ConvTranspose1d dim 0 is the input-channel axis.
 */
final class WeightNorm {
    static final String G = ".parametrizations.weight.original0";
    static final String V = ".parametrizations.weight.original1";

    private WeightNorm() {
    }

    /** Folds g and v into a plain weight (a new tensor; g and v are not modified). */
    static Tensor fold(Tensor g, Tensor v) {
        long dims = v.dim();
        long[] reduce = new long[(int) dims - 1];
        for (int i = 1; i < dims; i++) {
            reduce[i - 1] = i;
        }
        Tensor norm = v.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), reduce, true);
        return v.mul(g.div(norm)).contiguous();
    }
}
