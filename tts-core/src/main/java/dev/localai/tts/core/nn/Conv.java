package dev.localai.tts.core.nn;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The one gateway for every convolution of every model part (S3Gen flow, HiFT, CAMPPlus, S3Tokenizer, the
 * resamplers): {@code torch.conv1d}, {@code conv_transpose1d} and {@code conv2d} semantics, correct on every
 * x86-64 CPU.
 *
 * <p><b>Why it exists (issue 12).</b> LibTorch hands CPU convolutions to oneDNN, which computes in channel-blocked
 * layouts ({@code aBcd16b} sources, {@code ABcd16b16a} weights on AVX-512; blocks of 8 on AVX2). When the input
 * channels per group are not a multiple of the block, the blocked copies are padded, and oneDNN 3.7 (LibTorch
 * 2.10) reads those padded lanes without zeroing them first: whatever the heap held there enters the sum.
 * Finite garbage gives silently wrong outputs (off by about 1.0), NaN or Inf garbage gives NaN channels. Measured
 * on a 2-core AMD EPYC (Zen 4): HiFT's {@code source_downs} (18 input channels) produced NaN audio, and waveform
 * parity with upstream was off by 1.6e-3 instead of 1e-7. Whether a machine shows it depends only on what its
 * heap happens to hold, so the bug is latent everywhere.
 *
 * <p><b>The rule.</b> A convolution whose input channels per group (and, when grouped, whose group count) are a
 * multiple of {@value #BLOCK} runs on oneDNN as before: its blocked layouts need no padding, so nothing uninitialised
 * can be read, and it keeps oneDNN's speed. Every other convolution runs on LibTorch's reference kernels that never
 * touch oneDNN ({@code thnn_conv2d}, {@code slow_conv_dilated2d}, {@code slow_conv_transpose2d}: im2col + GEMM),
 * which are the kernels LibTorch itself uses with MKLDNN switched off. {@value #BLOCK} is the widest channel block
 * oneDNN uses for fp32 (AVX-512) and a multiple of the AVX2 block, so the rule holds on every dispatch path.
 * {@code ConvShapesOnDirtyHeapTest} checks every shape the models use against a double-precision loop on a heap
 * poisoned with NaN, Inf and 1e30.
 *
 * <p><b>Layout (measured per machine).</b> oneDNN runs a 1-D convolution over a long time axis faster when the
 * activations are channels-last ((B, C, T) with the channels innermost, strides (C*T, 1, C)): HiFT's fp32 residual
 * convolutions 1.3-1.9x and its transposed ones 1.1-3.2x on the Intel Xeon VM, 1.05-1.65x and 1.2-2.5x with AVX2 caps
 * (docs/performance.md). Where the weight-type probe measured it faster, the engine turns {@link #useChannelsLast} on
 * process-wide: every oneDNN-safe convolution (groups 1, float or bf16, CPU) then takes its input channels-last (a
 * copy where it is not already) and returns its output channels-last; element-wise operations keep that layout, so a
 * chain of convolutions (HiFT's resblocks) converts once. The two layouts differ in summation order only (1e-6 to
 * 1e-5 relative per fp32 convolution; HiFT's golden waveform within 1.2e-7 of the default layout's).
 * The block rule above applies unchanged: channels that are multiples of {@value #BLOCK} need no padded lanes in
 * any layout.
 *
 * <p><b>Memory.</b> The nn rule: a function returns a new tensor that the caller owns; temporaries belong to the
 * caller's {@code PointerScope} (see {@code package-info}).
 */
public final class Conv {
    /** Channel block size that oneDNN's blocked layouts never need to pad when the channels are a multiple of it. */
    public static final int BLOCK = 16;

    private static final Set<ConvShape> RECORDED = ConcurrentHashMap.newKeySet();
    private static volatile boolean recording;
    private static volatile boolean channelsLast;

    private Conv() {}

    /**
     * {@code torch.nn.functional.conv1d}: x (B, C_in, L), weight (C_out, C_in/groups, k), bias (C_out) or null.
     */
    public static Tensor conv1d(Tensor x, Tensor weight, Tensor bias, long stride, long padding, long dilation,
                                long groups) {
        long cinPerGroup = weight.size(1);
        record(ConvShape.Kind.CONV1D, x, weight, new long[] {stride}, new long[] {padding}, new long[] {dilation},
                groups);
        if (oneDnnSafe(cinPerGroup, groups)) {
            if (channelsLastFor(x, groups)) {
                if (weight.size(2) == 1 && stride == 1 && padding == 0) {
                    return pointwiseChannelsLast(x, weight, bias);
                }
                Tensor y = torch.conv2d(channelsLast4d(x), channelsLast4d(weight), optional(bias),
                        new long[] {1, stride}, new long[] {0, padding}, new long[] {1, dilation}, groups);
                return y.squeeze(2);
            }
            return torch.conv1d(x, weight, optional(bias), new long[] {stride}, new long[] {padding},
                    new long[] {dilation}, groups);
        }
        if (groups == 1) {
            return reference1d(x, weight, bias, stride, padding, dilation);
        }
        return perGroup(x, weight, bias, groups, false,
                (xg, wg, bg) -> reference1d(xg, wg, bg, stride, padding, dilation));
    }

    /**
     * {@code torch.nn.functional.conv_transpose1d}: x (B, C_in, L), weight (C_in, C_out/groups, k), bias (C_out)
     * or null.
     */
    public static Tensor convTranspose1d(Tensor x, Tensor weight, Tensor bias, long stride, long padding,
                                         long outputPadding, long groups, long dilation) {
        long cinPerGroup = weight.size(0) / groups;
        record(ConvShape.Kind.CONV_TRANSPOSE1D, x, weight, new long[] {stride, outputPadding}, new long[] {padding},
                new long[] {dilation}, groups);
        if (oneDnnSafe(cinPerGroup, groups)) {
            if (channelsLastFor(x, groups)) {
                Tensor y = torch.conv_transpose2d(channelsLast4d(x), channelsLast4d(weight), optional(bias),
                        new long[] {1, stride}, new long[] {0, padding}, new long[] {0, outputPadding}, groups,
                        new long[] {1, dilation});
                return y.squeeze(2);
            }
            return torch.conv_transpose1d(x, weight, optional(bias), new long[] {stride}, new long[] {padding},
                    new long[] {outputPadding}, groups, new long[] {dilation});
        }
        TriFunction ref = (xg, wg, bg) -> {
            long k = wg.size(2);
            Tensor y = torch.slow_conv_transpose2d(xg.unsqueeze(2), wg.unsqueeze(2), new long[] {1, k},
                    optional(bg), new long[] {1, stride}, new long[] {0, padding}, new long[] {0, outputPadding},
                    1, dilation);
            return y.squeeze(2);
        };
        return groups == 1 ? ref.apply(x, weight, bias) : perGroup(x, weight, bias, groups, true, ref);
    }

    /**
     * {@code torch.nn.functional.conv2d} with groups 1: x (B, C_in, H, W), weight (C_out, C_in, kH, kW), bias
     * (C_out) or null; stride, padding and dilation as {H, W}.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, long[] stride, long[] padding,
                                long[] dilation) {
        long cin = weight.size(1);
        record(ConvShape.Kind.CONV2D, x, weight, stride, padding, dilation, 1);
        if (oneDnnSafe(cin, 1)) {
            return torch.conv2d(x, weight, optional(bias), stride, padding, dilation, 1);
        }
        long[] kernel = {weight.size(2), weight.size(3)};
        if (dilation[0] == 1 && dilation[1] == 1) {
            return torch.thnn_conv2d(x, weight.contiguous(), kernel, optional(bias), stride, padding);
        }
        return torch.slow_conv_dilated2d(x, weight.contiguous(), kernel, optional(bias), stride, padding, dilation);
    }

    /**
     * Runs every oneDNN-safe float or bf16 CPU convolution of groups 1 channels-last, process-wide (see the class
     * comment). Off by default; the engine turns it on where the weight-type probe measured it faster.
     */
    public static void useChannelsLast(boolean on) {
        channelsLast = on;
    }

    /** Whether convolutions run channels-last ({@link #useChannelsLast}). */
    public static boolean channelsLast() {
        return channelsLast;
    }

    private static boolean channelsLastFor(Tensor x, long groups) {
        if (!channelsLast || groups != 1 || x.dim() != 3 || x.is_cuda()) {
            return false;
        }
        int t = x.scalar_type().value;
        return t == torch.ScalarType.Float.value || t == torch.ScalarType.BFloat16.value;
    }

    /**
     * A pointwise convolution (kernel 1, stride 1, no padding, groups 1) in the channels-last layout, as what it is: a
     * linear layer over the rows of the (B, L, C_in) matrix that a channels-last (B, C_in, L) tensor is in memory
     * ({@link Linear#linear}: in fp32 on the kernel the probe chose for this machine's products, oneDNN's matrix
     * product or OpenBLAS; in bf16 oneDNN's matrix product). Its output (B, L, C_out) is the
     * channels-last (B, C_out, L), so nothing is copied where the input already is channels-last. Not oneDNN's
     * convolution: its channels-last 1x1 kernel ({@code brgemm_1x1_convolution_fwd_t}, oneDNN 3.7 in LibTorch 2.10)
     * divides by zero while it chooses its blocking on every CPU without AMX at two or more threads when the channels
     * are one of five pairs (in to out 1024 to 512, 1024 to 2048, 256 to 1024, 512 to 1024, 512 to 2048: a
     * "maskrcnn" special case whose integer division is by the count of AMX tile blocks, none there), which killed the
     * process with SIGFPE in CAMPPlus's transit layers (1024 to 512) when a voice was cloned from a clip; measured on
     * a 2-core AMD EPYC (Zen 5), fp32 and bf16, under every oneDNN ISA cap from AVX2 to AVX512_CORE_VNNI, and never
     * in the default layout. {@code ConvChannelsLastTest} runs those pairs at two threads.
     */
    private static Tensor pointwiseChannelsLast(Tensor x, Tensor weight, Tensor bias) {
        Tensor rows = x.transpose(1, 2);
        if (!rows.is_contiguous()) {
            rows = rows.contiguous();
        }
        return Linear.linear(rows, weight.squeeze(2), bias).transpose(1, 2);
    }

    /** (B, C, L) as the channels-last (B, C, 1, L) oneDNN takes without a reorder (no copy when it already is). */
    static Tensor channelsLast4d(Tensor t) {
        return t.unsqueeze(2).contiguous(torch.MemoryFormat.ChannelsLast);
    }

    /** Whether a (B, C, L) tensor is laid out channels-last: the channels innermost. */
    public static boolean isChannelsLast(Tensor t) {
        return t.dim() == 3 && t.size(1) > 1 && t.stride(1) == 1 && (t.size(2) == 1 || t.stride(2) == t.size(1));
    }

    /**
     * True when oneDNN's channel-blocked layouts need no padded lanes for this convolution (or when LibTorch will
     * not use oneDNN at all), so the fast path is exact.
     */
    public static boolean oneDnnSafe(long cinPerGroup, long groups) {
        if (!torch.globalContext().userEnabledMkldnn()) {
            return true;
        }
        boolean channelsAligned = cinPerGroup % BLOCK == 0 || (groups > 1 && cinPerGroup == 1);
        return channelsAligned && (groups == 1 || groups % BLOCK == 0);
    }

    private static Tensor reference1d(Tensor x, Tensor w, Tensor b, long stride, long padding, long dilation) {
        long k = w.size(2);
        Tensor x4 = x.unsqueeze(2);
        Tensor w4 = w.unsqueeze(2).contiguous();
        Tensor y = dilation == 1
                ? torch.thnn_conv2d(x4, w4, new long[] {1, k}, optional(b), new long[] {1, stride},
                        0, padding)
                : torch.slow_conv_dilated2d(x4, w4, new long[] {1, k}, optional(b), new long[] {1, stride},
                        new long[] {0, padding}, 1, dilation);
        return y.squeeze(2);
    }

    /** Splits a grouped convolution into one reference convolution per group and concatenates the outputs. */
    private static Tensor perGroup(Tensor x, Tensor w, Tensor b, long groups, boolean transposed, TriFunction f) {
        long cin = x.size(1) / groups;
        long wPer = w.size(0) / groups;
        TensorVector outs = new TensorVector();
        for (long g = 0; g < groups; g++) {
            Tensor xg = x.narrow(1, g * cin, cin).contiguous();
            Tensor wg = w.narrow(0, g * wPer, wPer).contiguous();
            long outPer = transposed ? w.size(1) : wPer;
            Tensor bg = b == null ? null : b.narrow(0, g * outPer, outPer).contiguous();
            outs.push_back(f.apply(xg, wg, bg));
        }
        return torch.cat(outs, 1);
    }

    private static TensorOptional optional(Tensor bias) {
        return bias == null ? new TensorOptional() : new TensorOptional(bias);
    }

    @FunctionalInterface
    private interface TriFunction {
        Tensor apply(Tensor x, Tensor w, Tensor b);
    }

    // ---- shape recording, for the regression test that checks every shape the models use ----

    /** Starts (and clears) the record of convolution shapes seen by this gateway. */
    public static void startRecording() {
        RECORDED.clear();
        recording = true;
    }

    /** Stops recording and returns the shapes seen since {@link #startRecording}. */
    public static Set<ConvShape> stopRecording() {
        recording = false;
        return Set.copyOf(RECORDED);
    }

    private static void record(ConvShape.Kind kind, Tensor x, Tensor w, long[] stride, long[] padding,
                               long[] dilation, long groups) {
        if (recording) {
            RECORDED.add(ConvShape.of(kind, x.shape(), w.shape(), stride, padding, dilation, groups,
                    x.scalar_type()));
        }
    }
}
