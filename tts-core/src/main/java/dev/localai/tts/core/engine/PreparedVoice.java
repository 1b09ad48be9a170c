package dev.localai.tts.core.engine;

import dev.localai.tts.core.model.t3.T3Cond;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.RefCount;
import dev.localai.tts.core.voice.Conditionals;
import org.bytedeco.pytorch.Tensor;

/**
 * A voice's conditionals as tensors on the model's device, made once per voice and shared by every request that uses
 * it (read-only). Reference-counted so native memory is freed deterministically: the voice table holds one
 * reference, every request using the voice holds one ({@link #acquire()} / {@link #release()}); the tensors are
 * freed when the last is released, so deleting a voice never pulls tensors from under a running request.
 */
public final class PreparedVoice implements AutoCloseable {
    private final RefCount refs = new RefCount(this::free);
    final String id;
    final T3Cond t3Cond;
    /** (1, P2) int64. */
    final Tensor promptToken;
    /** (1, 2*P2, 80) float32, time-first. */
    final Tensor promptFeat;
    /** (1, 192) float32. */
    final Tensor embedding;

    /** Drops what the model cached for this voice (its T3 prefix) when the voice is freed; may be null. */
    private final java.util.function.Consumer<T3Cond> forget;

    private PreparedVoice(String id, T3Cond t3Cond, Tensor promptToken, Tensor promptFeat, Tensor embedding,
            java.util.function.Consumer<T3Cond> forget) {
        this.forget = forget;
        this.id = id;
        this.t3Cond = t3Cond;
        this.promptToken = promptToken;
        this.promptFeat = promptFeat;
        this.embedding = embedding;
    }

    static PreparedVoice of(String id, Conditionals c, Device device) {
        return of(id, c, device, null);
    }

    /** As {@link #of(String, Conditionals, Device)}; {@code forget} runs when the voice is freed. */
    static PreparedVoice of(String id, Conditionals c, Device device, java.util.function.Consumer<T3Cond> forget) {
        try (org.bytedeco.pytorch.Device dev = device.torchDevice();
             Tensor spk = c.speakerEmbTensor();
             Tensor cpt = c.condPromptSpeechTokensTensor();
             Tensor pt = c.promptTokenTensor();
             Tensor pf = c.promptFeatTensor();
             Tensor emb = c.embeddingTensor()) {
            long len = c.promptTokenLen();
            Tensor ptValid = pt.narrow(1, 0, len);
            Tensor pfValid = pf.narrow(1, 0, Math.min(pf.size(1), 2 * len));
            return new PreparedVoice(id,
                    new T3Cond(spk.to(dev, spk.scalar_type()).clone(), cpt.to(dev, cpt.scalar_type()).clone()),
                    ptValid.to(dev, pt.scalar_type()).contiguous().clone(),
                    pfValid.to(dev, pf.scalar_type()).contiguous().clone(),
                    emb.to(dev, emb.scalar_type()).clone(), forget);
        }
    }

    /** Reference tokens the S3Gen prompt holds. */
    long promptTokens() {
        return promptToken.size(1);
    }

    /** Takes a reference for a request; false when the voice was already freed (dropped meanwhile). */
    boolean acquire() {
        return refs.acquire();
    }

    /** Drops a reference; the last one frees the tensors. */
    void release() {
        refs.release();
    }

    /** Drops the voice table's reference (same as {@link #release()}). */
    @Override
    public void close() {
        release();
    }

    private void free() {
        if (forget != null) {
            forget.accept(t3Cond);
        }
        t3Cond.speakerEmb().close();
        t3Cond.promptSpeechTokens().close();
        promptToken.close();
        promptFeat.close();
        embedding.close();
    }
}
