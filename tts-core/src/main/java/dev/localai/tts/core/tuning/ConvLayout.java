package dev.localai.tts.core.tuning;

import java.util.Map;

/**
 * Whether the CPU convolutions run channels-last ({@code nn.Conv.useChannelsLast}), chosen by measurement.
 *
 * <p>oneDNN is given LibTorch's (B, C, L) tensors as they are laid out. With the time axis innermost (LibTorch's
 * default) it reorders input and output into its channel-blocked layout on every call; with the channels innermost
 * it runs on them directly. For HiFT's long 24 kHz-side convolutions that was 1.3-1.9x faster (residual blocks) and
 * 1.1-3.2x (transposed) on the 2-core Intel Xeon VM, and 1.05-1.65x and 1.2-2.5x there with AVX2 caps; whether it holds
 * on another CPU only a measurement says, so the weight-type probe ({@link DtypeProbe}) times a HiFT-sized chain of
 * convolutions in both layouts by turns, and channels-last is taken only when it is faster by {@link #MIN_GAIN}.
 */
public final class ConvLayout {
    /** The probe's name of LibTorch's default layout (time innermost). */
    public static final String CONTIGUOUS = "contiguous";
    /** The probe's name of the channels-innermost layout. */
    public static final String CHANNELS_LAST = "channels_last";

    /**
     * How much faster channels-last must run the probe's chain to be taken: twice the probe's noise margin
     * ({@link WeightTypes#MIN_GAIN}), because the chain understates what the default layout gains in HiFT. On a
     * 2-core AMD EPYC (Zen 5) the chain put the layouts within 3% of each other (channels-last 2.7% ahead in one
     * probe), while HiFT itself ran 30% slower channels-last (docs/performance.md, "Twenty-ninth round"). A switch
     * taken wrongly costs that much of every request's vocoding, and is kept in the probe's file; a switch missed
     * costs at most this margin. Where channels-last wins, it wins by more: 1.4x on the chain under the AVX2 caps
     * there, 1.3-1.9x for the residual blocks on the Intel Xeon VM.
     */
    static final double MIN_GAIN = 1.10;

    private ConvLayout() {}

    /**
     * Channels-last from the probe's times by layout name (pure logic): only when both were measured, finite and
     * positive, and channels-last took at most 1/{@link #MIN_GAIN} of the default's time.
     */
    public static boolean channelsLast(Map<String, Double> ms) {
        Double base = ms.get(CONTIGUOUS);
        Double cl = ms.get(CHANNELS_LAST);
        return base != null && cl != null && WeightTypes.clearlyFaster(cl, base, MIN_GAIN);
    }
}
