package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.RelErr;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * How far bf16 T3 weights move the first-step speech logits from fp32 on the tiny golden checkpoint (the engine's
 * CPU default is bf16 where the weight-type probe measured it faster). bf16 keeps 8 mantissa bits (relative rounding 2^-9 = 2e-3 per
 * value); through two layers, the layer norms and the head the logits stay within a few 1e-2 of fp32, relative.
 * The fp32 parity with upstream is {@link T3ParityTest}'s job.
 */
class T3Bf16AccuracyTest {
    /** Bound on ||bf16 - fp32|| / ||fp32|| of the logits. */
    static final double MAX_L2_REL = 3e-2;
    /** Bound on max |bf16 - fp32| / max |fp32| of the logits. */
    static final double MAX_REL = 5e-2;

    private static Tensor firstLogits(T3 t3, SafeTensors g) {
        T3Cond cond = new T3Cond(g.tensor("in.speaker_emb"), g.tensor("in.cond_prompt_speech_tokens"));
        Tensor embeds = t3.inputEmbeddings(cond, g.tensor("in.text_tokens"));
        try (KvCache cache = t3.newCache((int) embeds.size(0))) {
            Tensor hidden = t3.prefillHidden(embeds, cache);
            return t3.speechHead(hidden.narrow(0, hidden.size(0) - 1, 1)).to(ScalarType.Float);
        }
    }

    @Test
    void bf16FirstStepLogitsStayCloseToFp32() {
        var file = Golden.ckpt().resolve("t3_turbo_v1.safetensors");
        try (T3 fp32 = T3.load(file, Device.cpu(), ScalarType.Float);
             T3 bf16 = T3.load(file, Device.cpu(), ScalarType.BFloat16);
             SafeTensors g = Golden.load("t3_prefill.safetensors");
             PointerScope scope = new PointerScope()) {
            Tensor ref = firstLogits(fp32, g);
            Tensor low = firstLogits(bf16, g);
            double l2 = RelErr.l2(low, ref);
            double max = RelErr.max(low, ref);
            double vsUpstream = RelErr.l2(low, g.tensor("out.speech_logits"));
            System.out.printf("t3 bf16 vs fp32 first logits: rel L2 %.3g, rel max %.3g "
                    + "(vs upstream fp32: rel L2 %.3g)%n", l2, max, vsUpstream);
            assertThat(l2).isGreaterThan(0).isLessThan(MAX_L2_REL);
            assertThat(max).isLessThan(MAX_REL);
            assertThat(vsUpstream).isLessThan(MAX_L2_REL);
        }
    }
}
