package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A stride-1 {@code torch.nn.Conv1d} (dilation 1, groups 1, zero padding {@code padLeft} before and {@code padRight}
 * after the time axis) over <em>rows</em>: x (B, T, in) -> (B, T + padLeft + padRight - k + 1, out), computed as one
 * product, the k shifted rows of each output position side by side ({@code im2col}, one copy) times the weight as an
 * (out, k * in) matrix, through {@link Linear} (packed for oneDNN in bf16, on the probe's kernel in fp32). Keys
 * {@code weight} (out, in, k) and {@code bias} (out), as in the checkpoint; the matrix is derived at load and kept by
 * the model's owner, the (out, in, k) tensor given back.
 *
 * <p>Why: the flow estimator's causal convolutions work on sequences its transformer blocks keep as rows. As
 * (B, C, T) convolutions through {@link Conv} they cost two transposes per resnet and LibTorch's oneDNN convolution
 * reorders the input, weight and output on every call; as one product over rows a k = 3 convolution of 256 channels
 * over 544 frames took 0.48 ms against 0.74 ms, a k = 1 one 0.17 against 0.38 ms (bf16, 2-core AMD EPYC Zen 5;
 * docs/performance.md, "Ninth round"). The sums are the same products of the same values; only the order of the
 * fp32 accumulation differs from oneDNN's convolution. Not a oneDNN convolution, so issue 12's padding rule
 * ({@link Conv}) has nothing to guard here: every row of the copy is written.
 */
public final class RowConv1d {
    /** The weight as (out, k * in): column {@code j * in + c} holds {@code weight[:, c, j]}. */
    private final Linear product;
    private final long in;
    private final long k;
    private final long padLeft;
    private final long padRight;

    private RowConv1d(ParamSource p, long in, long out, long k, long padLeft, long padRight) {
        if (in < 1 || out < 1 || k < 1 || padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("conv sizes: in " + in + ", out " + out + ", k " + k + ", padding "
                    + padLeft + "/" + padRight);
        }
        this.in = in;
        this.k = k;
        this.padLeft = padLeft;
        this.padRight = padRight;
        Tensor weight = p.take("weight", out, in, k);
        Tensor matrix = p.keep(weight.permute(0, 2, 1).reshape(out, k * in).contiguous());
        p.free(weight);
        this.product = Linear.over(p, matrix, p.take("bias", out));
    }

    /** Causal: {@code k - 1} zeros on the left (upstream's {@code CausalConv1d}). */
    public static RowConv1d causal(ParamSource p, long in, long out, long k) {
        return new RowConv1d(p, in, out, k, k - 1, 0);
    }

    /** Explicit zero padding on either side of the time axis ({@code k = 1}, no padding: a pointwise conv). */
    public static RowConv1d padded(ParamSource p, long in, long out, long k, long padLeft, long padRight) {
        return new RowConv1d(p, in, out, k, padLeft, padRight);
    }

    /** x (B, T, in) -> (B, T', out); a new tensor the caller owns. */
    public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(2) != in) {
            throw new IllegalArgumentException("conv over rows: x must be (B, T, " + in + "), got "
                    + java.util.Arrays.toString(x.sizes().vec().get()));
        }
        return Scopes.run(() -> {
            Tensor xp = padLeft == 0 && padRight == 0 ? x.contiguous()
                    : torch.constant_pad_nd(x.contiguous(), new long[] {0, 0, padLeft, padRight});
            if (k == 1) {
                return product.forward(xp);
            }
            long b = xp.size(0);
            long tp = xp.size(1);
            long t = tp - k + 1;
            if (t < 1) {
                throw new IllegalArgumentException("conv over rows: " + x.size(1) + " frames are fewer than the "
                        + "kernel (" + k + ") after padding");
            }
            // row i of the view is rows i .. i + k - 1 of xp, one after the other: the k taps of output position i
            Tensor cols = xp.as_strided(new long[] {b, t, k * in}, new long[] {tp * in, in, 1}).contiguous();
            return product.forward(cols);
        });
    }

    public static void shapes(Map<String, long[]> m, String prefix, long in, long out, long k) {
        Conv1d.shapes(m, prefix, in, out, k);
    }
}
