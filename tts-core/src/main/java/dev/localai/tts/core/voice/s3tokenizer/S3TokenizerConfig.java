package dev.localai.tts.core.voice.s3tokenizer;

/**
 * Sizes of S3TokenizerV2 ({@code speech_tokenizer_v2_25hz}). The rotary table is hard-coded to head dim 64, so
 * {@code nAudioState / nAudioHead} must be 64.
 *
 * @param nMels        mel bins of the front-end (128)
 * @param nAudioState  encoder width (1280)
 * @param nAudioHead   attention heads (20)
 * @param nAudioLayer  residual attention blocks (6)
 * @param fsmnKernel   depthwise FSMN kernel (31)
 * @param codebookSize FSQ codebook size, 3^8 = 6561
 */
public record S3TokenizerConfig(int nMels, int nAudioState, int nAudioHead, int nAudioLayer, int fsmnKernel,
                                int codebookSize) {
    public static final int HEAD_DIM = 64;
    public static final int FSQ_DIM = 8;

    public S3TokenizerConfig {
        if (nAudioHead <= 0 || nAudioState != nAudioHead * HEAD_DIM) {
            throw new IllegalArgumentException("S3 tokenizer head dim must be " + HEAD_DIM + ": state " + nAudioState
                    + ", heads " + nAudioHead);
        }
    }

    /**
     * Reads the sizes from a checkpoint view with the tokenizer's prefix ({@code sd.sub("tokenizer")}): width from
     * {@code encoder.conv1.weight}, layers by counting {@code encoder.blocks.N}, heads = width / 64.
     */
    public static S3TokenizerConfig inferFrom(dev.localai.tts.core.checkpoint.StateDict sd) {
        long[] conv1 = sd.shape("encoder.conv1.weight");
        int state = (int) conv1[0];
        int layers = 0;
        while (sd.has("encoder.blocks." + layers + ".attn.query.weight")) {
            layers++;
        }
        int kernel = (int) sd.shape("encoder.blocks.0.attn.fsmn_block.weight")[2];
        return new S3TokenizerConfig((int) conv1[1], state, state / HEAD_DIM, layers, kernel, 6561);
    }

    /** The official Chatterbox Turbo sizes. */
    public static S3TokenizerConfig turbo() {
        return new S3TokenizerConfig(128, 1280, 20, 6, 31, 6561);
    }

    /** The tiny golden profile ({@code arch.s3gen.s3tokenizer} of shared/golden/tiny/manifest.json). */
    public static S3TokenizerConfig tiny() {
        return new S3TokenizerConfig(128, 128, 2, 1, 31, 6561);
    }
}
