package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * Weight normalisation in PyTorch's parametrization layout: {@code original0} = g (magnitude, one value per slice
 * along dim 0), {@code original1} = v (direction). The effective weight is {@code v * (g / ||v||)} with the norm
 * taken over every dimension except dim 0 (for a ConvTranspose1d dim 0 is the input-channel axis). Folded once at
 * load.
 */
public final class WeightNorm {
    public static final String G = ".parametrizations.weight.original0";
    public static final String V = ".parametrizations.weight.original1";

    private WeightNorm() {
    }

    /** Folds g and v into a plain weight (a new tensor; g and v are not modified). */
    public static Tensor fold(Tensor g, Tensor v) {
        long dims = v.dim();
        long[] reduce = new long[(int) dims - 1];
        for (int i = 1; i < dims; i++) {
            reduce[i - 1] = i;
        }
        Tensor norm = v.norm(new ScalarOptional(new Scalar(2.0)), reduce, true);
        return v.mul(g.div(norm)).contiguous();
    }

    /** Takes g (gShape) and v (vShape) of {@code weight}, returns the folded weight owned like {@code p}'s tensors. */
    static Tensor take(ParamSource p, long[] gShape, long[] vShape) {
        Tensor g = p.take("parametrizations.weight.original0", gShape);
        Tensor v = p.take("parametrizations.weight.original1", vShape);
        Tensor w = p.keep(fold(g, v));
        p.free(g);
        p.free(v);
        return w;
    }
}
