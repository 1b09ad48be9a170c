package dev.localai.tts.core.voice.ref;

import org.bytedeco.pytorch.Tensor;

/**
 * The S3Gen side of a reference voice, upstream's {@code ref_dict} from {@code S3Gen.embed_ref} (prompt_feat_len is
 * always None upstream and omitted), plus the two intermediates parity tests look at.
 *
 * @param promptToken    (1, P) int64 speech tokens of the 16 kHz reference
 * @param promptTokenLen P, after aligning tokens to the mel (P &lt;= M / 2)
 * @param promptFeat     (1, M, 80) 24 kHz log-mel, M = floor(L24 / 480)
 * @param embedding      (1, 192) CAMPPlus x-vector (not normalised)
 * @param wav16k         (1, ceil(2 L24 / 3)) the torchaudio-resampled reference
 */
public record S3GenRef(Tensor promptToken, long promptTokenLen, Tensor promptFeat, Tensor embedding, Tensor wav16k)
        implements AutoCloseable {
    @Override
    public void close() {
        promptToken.close();
        promptFeat.close();
        embedding.close();
        wav16k.close();
    }
}
