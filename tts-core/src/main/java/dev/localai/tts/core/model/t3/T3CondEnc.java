package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import org.bytedeco.pytorch.Tensor;

/**
 * Turbo's conditioning encoder: only the speaker projection {@code spkr_enc} (Linear 256 -> D). CLAP, the perceiver
 * and the emotion token are disabled in Turbo; the prompt speech tokens are embedded by T3's {@code speech_emb} and
 * appended after the speaker position.
 */
final class T3CondEnc {
    final Linear spkr_enc;
    private final int speakerEmbedSize;

    T3CondEnc(ParamSource p, T3Config c) {
        this.speakerEmbedSize = c.speakerEmbedSize();
        this.spkr_enc = new Linear(p.sub("spkr_enc"), c.speakerEmbedSize(), c.nEmbd(), true);
    }

    /** speaker embedding (any shape with 256 elements) -> (1, D). */
    Tensor speaker(Tensor speakerEmb) {
        return spkr_enc.forward(speakerEmb.reshape(1, speakerEmbedSize));
    }
}
