package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.checkpoint.StateDict;
import java.util.List;

/**
 * Hyper-parameters of the HiFT vocoder (neural source filter + iSTFTNet) as S3Gen builds it.
 *
 * @param inChannels              mel bins (80)
 * @param baseChannels            width after {@code conv_pre} (512 official, 64 tiny)
 * @param f0CondChannels          width of the F0 predictor's conv stack (512 official, 64 tiny)
 * @param nbHarmonics             overtones above the fundamental (8, so 9 sine components)
 * @param sampleRate              output rate (24000)
 * @param nsfAlpha                sine amplitude (0.1)
 * @param nsfSigma                voiced noise std (0.003)
 * @param voicedThreshold         F0 above which a sample counts as voiced (10 Hz)
 * @param upsampleRates           transposed-conv strides ([8, 5, 3])
 * @param upsampleKernelSizes     transposed-conv kernels ([16, 11, 7])
 * @param nFft                    iSTFT size (16)
 * @param hop                     iSTFT hop (4)
 * @param resblockKernelSizes     kernels of the three resblocks per level ([3, 7, 11])
 * @param resblockDilations       dilations of each resblock ([1, 3, 5])
 * @param sourceResblockKernelSizes kernels of the source resblocks ([7, 7, 11])
 * @param sourceResblockDilations dilations of the source resblocks ([1, 3, 5])
 * @param lreluSlope              leaky-ReLU slope between levels (0.1; the final one uses 0.01)
 * @param audioLimit              output clamp (0.99)
 * @param f0Layers                weight-normed convs in the F0 predictor (5)
 */
public record HiftConfig(
        int inChannels,
        int baseChannels,
        int f0CondChannels,
        int nbHarmonics,
        int sampleRate,
        double nsfAlpha,
        double nsfSigma,
        double voicedThreshold,
        List<Integer> upsampleRates,
        List<Integer> upsampleKernelSizes,
        int nFft,
        int hop,
        List<Integer> resblockKernelSizes,
        List<Integer> resblockDilations,
        List<Integer> sourceResblockKernelSizes,
        List<Integer> sourceResblockDilations,
        double lreluSlope,
        double audioLimit,
        int f0Layers) {

    public HiftConfig {
        upsampleRates = List.copyOf(upsampleRates);
        upsampleKernelSizes = List.copyOf(upsampleKernelSizes);
        resblockKernelSizes = List.copyOf(resblockKernelSizes);
        resblockDilations = List.copyOf(resblockDilations);
        sourceResblockKernelSizes = List.copyOf(sourceResblockKernelSizes);
        sourceResblockDilations = List.copyOf(sourceResblockDilations);
        if (upsampleRates.size() != upsampleKernelSizes.size()
                || upsampleRates.size() != sourceResblockKernelSizes.size()) {
            throw new IllegalArgumentException("upsample/source resblock lists differ in length");
        }
    }

    /** Official Chatterbox Turbo sizes ({@code S3Token2Wav.mel2wav}). */
    public static HiftConfig turbo() {
        return withWidth(512, 512);
    }

    /** The golden tiny profile ({@code arch.s3gen.hift} / {@code arch.s3gen.f0_predictor} of manifest.json). */
    public static HiftConfig tiny() {
        return withWidth(64, 64);
    }

    /** Turbo layout with other widths. */
    /** The config matching a checkpoint: widths are read from the shapes of its {@code mel2wav.*} tensors. */
    public static HiftConfig inferFrom(StateDict s3gen) {
        int base = (int) s3gen.shape("mel2wav.conv_pre.parametrizations.weight.original0")[0];
        int f0 = (int) s3gen.shape("mel2wav.f0_predictor.condnet.0.parametrizations.weight.original0")[0];
        return withWidth(base, f0);
    }

    public static HiftConfig withWidth(int baseChannels, int f0CondChannels) {
        return new HiftConfig(80, baseChannels, f0CondChannels, 8, 24000, 0.1, 0.003, 10.0,
                List.of(8, 5, 3), List.of(16, 11, 7), 16, 4,
                List.of(3, 7, 11), List.of(1, 3, 5), List.of(7, 7, 11), List.of(1, 3, 5),
                0.1, 0.99, 5);
    }

    /** Number of sine components (fundamental + overtones). */
    public int harmonics() {
        return nbHarmonics + 1;
    }

    /** Output samples per mel frame: product of the upsample rates times the iSTFT hop (480). */
    public int samplesPerFrame() {
        int p = hop;
        for (int r : upsampleRates) {
            p *= r;
        }
        return p;
    }

    /** Channels at upsampling level {@code i} (after {@code ups[i]}). */
    public int levelChannels(int i) {
        return baseChannels >> (i + 1);
    }

    /** Number of mel frames either side of a frame that the F0 predictor sees (one per k=3 conv). */
    public int f0RadiusFrames() {
        return f0Layers;
    }

    /**
     * A conservative bound, in mel frames, on how far the decoder (everything after the source signal, given
     * mel and source) looks to either side of an output sample. Windows with at least this much context on each
     * side reproduce the whole-utterance output up to float rounding.
     */
    public int decoderRadiusFrames() {
        Reach g = reach();
        int levels = g.rate.length;
        double maxRes = g.maxRes;
        double[] rate = g.rate;
        double[] upsRadius = g.upsRadius;
        double afterLevel0 = maxRes / rate[0] + g.tail;
        for (int i = 1; i < levels; i++) {
            afterLevel0 += upsRadius[i] / rate[i - 1] + maxRes / rate[i];
        }
        double xPath = 3 /* conv_pre */ + upsRadius[0] + afterLevel0;
        double stftRate = (double) samplesPerFrame() / hop;
        int down0 = (int) Math.round(stftRate / rate[0]);
        double downRadius = Math.max(2 * down0 - 1 - down0 / 2, down0 / 2);
        double sourcePath = (nFft / 2.0) / samplesPerFrame() + downRadius / stftRate
                + resblockRadius(sourceResblockKernelSizes.get(0), sourceResblockDilations) / rate[0] + afterLevel0;
        return (int) Math.ceil(Math.max(xPath, sourcePath)) + 1;
    }

    /**
     * How far, in mel frames, the decoder's intermediate signals reach an output sample (conservative, as
     * {@link #decoderRadiusFrames()}, with a frame to spare): element {@code 2i} for the input of {@code ups[i]},
     * {@code 2i + 1} for the input of level i's resblocks (after the source is added). Samples farther than that from
     * every wanted output sample need not be computed ({@link HiFTGenerator#decode(org.bytedeco.pytorch.Tensor,
     * org.bytedeco.pytorch.Tensor, long, long)}).
     */
    public double[] trimRadiiFrames() {
        Reach g = reach();
        int levels = g.rate.length;
        double after = g.tail;
        double[] out = new double[2 * levels];
        for (int i = levels - 1; i >= 0; i--) {
            double beforeRes = g.maxRes / g.rate[i] + after;
            double beforeUps = g.upsRadius[i] / (i == 0 ? 1 : g.rate[i - 1]) + beforeRes;
            out[2 * i] = beforeUps + 1;
            out[2 * i + 1] = beforeRes + 1;
            after = beforeUps;
        }
        return out;
    }

    /**
     * The decoder's reach, level by level: the widest resblock's radius in samples of its level ({@code maxRes}),
     * samples per frame after each level ({@code rate}), each transposed convolution's radius in its input samples
     * ({@code upsRadius}), and what follows the last level (reflection pad, conv_post, iSTFT) in frames ({@code tail}).
     */
    private record Reach(double maxRes, double[] rate, double[] upsRadius, double tail) {}

    private Reach reach() {
        int levels = upsampleRates.size();
        double maxRes = 0;
        for (int k : resblockKernelSizes) {
            maxRes = Math.max(maxRes, resblockRadius(k, resblockDilations));
        }
        double[] rate = new double[levels];
        double[] upsRadius = new double[levels];
        double r = 1;
        for (int i = 0; i < levels; i++) {
            int u = upsampleRates.get(i);
            int k = upsampleKernelSizes.get(i);
            int p = (k - u) / 2;
            upsRadius[i] = Math.max(k - 1 - p, p) / (double) u;
            r *= u;
            rate[i] = r;
        }
        double last = rate[levels - 1];
        double tail = 1 / last /* reflection pad */ + 3 / last /* conv_post */ + (nFft / 2.0) / samplesPerFrame();
        return new Reach(maxRes, rate, upsRadius, tail);
    }

    private static double resblockRadius(int k, List<Integer> dilations) {
        int half = (k - 1) / 2;
        double r = 0;
        for (int d : dilations) {
            r += half * d + half;
        }
        return r;
    }
}
