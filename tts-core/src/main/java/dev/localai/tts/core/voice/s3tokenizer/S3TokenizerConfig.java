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

    /** The official Chatterbox Turbo sizes. */
    public static S3TokenizerConfig turbo() {
        return new S3TokenizerConfig(128, 1280, 20, 6, 31, 6561);
    }

    /** The tiny golden profile ({@code arch.s3gen.s3tokenizer} of shared/golden/tiny/manifest.json). */
    public static S3TokenizerConfig tiny() {
        return new S3TokenizerConfig(128, 128, 2, 1, 31, 6561);
    }
}
