package dev.localai.tts.core.model.s3gen;

/**
 * Sizes of the S3Gen flow part (speech tokens -> 80-bin mel): the token embedding, the upsampling conformer encoder
 * and the mean-flow U-Net estimator. Only the flow half is described here; the vocoder (HiFT) and the reference
 * encoders have their own configs.
 *
 * @param vocabSize           speech-token vocabulary of {@code flow.input_embedding} (6561)
 * @param inputSize           token embedding width (= encoder input width)
 * @param dModel              conformer width ({@code output_size})
 * @param attentionHeads      conformer heads
 * @param linearUnits         conformer feed-forward width
 * @param numBlocks           conformer layers before upsampling ({@code encoders})
 * @param numUpBlocks         conformer layers after upsampling ({@code up_encoders})
 * @param preLookaheadLen     tokens of look-ahead of the pre-lookahead convolution (3)
 * @param upsampleStride      token-to-frame ratio of the encoder's upsampler (2)
 * @param melBins             output mel bins (80)
 * @param spkEmbedDim         speaker x-vector width (192)
 * @param estimatorInChannels estimator input channels: x, mu, spks, cond stacked (320)
 * @param channels            estimator U-Net width (single level, like upstream's {@code channels=[256]})
 * @param nBlocks             transformer blocks per U-Net level
 * @param numMidBlocks        mid blocks
 * @param numHeads            estimator attention heads
 * @param attentionHeadDim    estimator attention head width
 * @param meanflow            whether the estimator embeds (t, r) through {@code time_embed_mixer}
 * @param nTimesteps          Euler steps of the solver (Turbo: 2, t = 0 -> 0.5 -> 1)
 * @param attentionInFp32     an inference choice, not a size (like {@code nTimesteps}): the estimator's attention of a
 *                            bf16 flow on the CPU computed in fp32, where the weight-type probe measured that faster
 *                            (a Zen 4 EPYC's bf16 {@code scaled_dot_product_attention} is 15x slower than fp32)
 */
public record S3GenConfig(
        int vocabSize,
        int inputSize,
        int dModel,
        int attentionHeads,
        int linearUnits,
        int numBlocks,
        int numUpBlocks,
        int preLookaheadLen,
        int upsampleStride,
        int melBins,
        int spkEmbedDim,
        int estimatorInChannels,
        int channels,
        int nBlocks,
        int numMidBlocks,
        int numHeads,
        int attentionHeadDim,
        boolean meanflow,
        int nTimesteps,
        boolean attentionInFp32) {

    public S3GenConfig {
        if (dModel % attentionHeads != 0) {
            throw new IllegalArgumentException("dModel " + dModel + " not divisible by heads " + attentionHeads);
        }
        if (estimatorInChannels != 4 * melBins) {
            throw new IllegalArgumentException("estimator input must stack x, mu, spks and cond: " + estimatorInChannels);
        }
        if (estimatorInChannels % 2 != 0) {
            throw new IllegalArgumentException("sinusoidal time embedding needs an even width");
        }
        if (nTimesteps < 1) {
            throw new IllegalArgumentException("nTimesteps must be >= 1");
        }
    }

    /** The official Chatterbox Turbo sizes ({@code S3Token2Wav(meanflow=True)}). */
    public static S3GenConfig turbo() {
        return new S3GenConfig(6561, 512, 512, 8, 2048, 6, 4, 3, 2, 80, 192, 320, 256, 4, 12, 8, 64, true, 2, false);
    }

    /** The tiny profile of {@code shared/golden/tiny/manifest.json} ({@code arch.s3gen}). */
    public static S3GenConfig tiny() {
        return new S3GenConfig(6561, 64, 64, 2, 128, 1, 1, 3, 2, 80, 192, 320, 64, 1, 1, 2, 32, true, 2, false);
    }

    /** Width of the time embedding: {@code channels * 4}. */
    public int timeEmbedDim() {
        return channels * 4;
    }

    /** Inner width of the estimator attention: {@code numHeads * attentionHeadDim}. */
    public int estimatorInnerDim() {
        return numHeads * attentionHeadDim;
    }

    /** Same sizes with another number of Euler steps. */
    public S3GenConfig withTimesteps(int steps) {
        return new S3GenConfig(vocabSize, inputSize, dModel, attentionHeads, linearUnits, numBlocks, numUpBlocks,
                preLookaheadLen, upsampleStride, melBins, spkEmbedDim, estimatorInChannels, channels, nBlocks,
                numMidBlocks, numHeads, attentionHeadDim, meanflow, steps, attentionInFp32);
    }

    /** Same sizes with the estimator's attention in fp32 (for a bf16 flow on the CPU) or in the weights' type. */
    public S3GenConfig withAttentionInFp32(boolean fp32) {
        return new S3GenConfig(vocabSize, inputSize, dModel, attentionHeads, linearUnits, numBlocks, numUpBlocks,
                preLookaheadLen, upsampleStride, melBins, spkEmbedDim, estimatorInChannels, channels, nBlocks,
                numMidBlocks, numHeads, attentionHeadDim, meanflow, nTimesteps, fp32);
    }
}
