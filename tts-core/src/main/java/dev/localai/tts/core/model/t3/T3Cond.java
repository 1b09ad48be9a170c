package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Tensor;

/**
 * T3 conditionals (upstream {@code T3Cond} as Turbo uses it).
 *
 * @param speakerEmb         VoiceEncoder speaker embedding, 256 floats ((1, 256) or (256))
 * @param promptSpeechTokens S3 prompt speech tokens, int64 ((1, P) or (P)), P up to 375; may be null (no prompt)
 */
public record T3Cond(Tensor speakerEmb, Tensor promptSpeechTokens) {
    public T3Cond {
        if (speakerEmb == null) {
            throw new IllegalArgumentException("speakerEmb is required");
        }
    }
}
