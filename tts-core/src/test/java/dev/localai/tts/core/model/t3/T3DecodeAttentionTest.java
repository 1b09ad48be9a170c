package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.nn.CpuAttention;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.RelErr;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * T3's decode steps with the native decode attention ({@link CpuAttention}) against the same steps on LibTorch's plain
 * products, on the tiny golden checkpoint: 60 greedy steps from the golden prefill, both models fed the LibTorch
 * run's tokens, so each step's logits compare on the same history. The two forms differ by fp32 rounding only.
 */
class T3DecodeAttentionTest {
    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(CpuAttention.available(), "the native kernels are not loaded here");
    }

    @Test
    void nativeDecodeAttentionGivesLibTorchsLogitsToRounding() {
        var file = Golden.ckpt().resolve("t3_turbo_v1.safetensors");
        boolean before = CpuAttention.usedForDecode();
        String fixed = System.getProperty(CpuAttention.PROPERTY);
        System.clearProperty(CpuAttention.PROPERTY);
        try (T3 t3 = T3.load(file, Device.cpu(), ScalarType.Float);
             SafeTensors g = Golden.load("t3_prefill.safetensors");
             PointerScope scope = new PointerScope()) {
            T3Cond cond = new T3Cond(g.tensor("in.speaker_emb"), g.tensor("in.cond_prompt_speech_tokens"));
            Tensor embeds = t3.inputEmbeddings(cond, g.tensor("in.text_tokens"));
            int l0 = (int) embeds.size(0);
            int steps = 60;
            try (KvCache ca = t3.newCache(l0 + steps);
                 KvCache cb = t3.newCache(l0 + steps);
                 DecodeBuffers ba = t3.newBuffers();
                 DecodeBuffers bb = t3.newBuffers()) {
                Tensor ha = t3.prefillHidden(embeds, ca);
                t3.prefillHidden(embeds, cb);
                int token = (int) t3.speechHead(ha.narrow(0, l0 - 1, 1)).argmax().item_long();
                Tensor la = torch.empty(t3.config().speechTokensDictSize());
                Tensor lb = torch.empty(t3.config().speechTokensDictSize());
                double worst = 0;
                int agree = 0;
                for (int i = 0; i < steps; i++) {
                    try (PointerScope step = new PointerScope()) {
                        CpuAttention.useForDecode(false);
                        t3.speechLogits(t3.stepHidden(token, l0 + i, ca, ba), ba, la);
                        CpuAttention.useForDecode(true);
                        assertThat(CpuAttention.usedForDecode()).isTrue();
                        t3.speechLogits(t3.stepHidden(token, l0 + i, cb, bb), bb, lb);
                        assertThat(torch.isfinite(lb).all().item_bool()).isTrue();
                        worst = Math.max(worst, RelErr.l2(lb, la));
                        int next = (int) la.argmax().item_long();
                        agree += next == (int) lb.argmax().item_long() ? 1 : 0;
                        token = next;
                    }
                }
                System.out.printf("T3 decode, native attention (%s) vs LibTorch's products over %d steps: worst rel L2 "
                        + "of the logits %.3g, greedy agreement %d/%d%n", CpuAttention.path(), steps, worst, agree,
                        steps);
                assertThat(worst).isLessThan(1e-5);
                assertThat(agree).isEqualTo(steps);
            }
        } finally {
            dev.localai.tts.core.testing.SystemProperties.restore(CpuAttention.PROPERTY, fixed);
            CpuAttention.useForDecode(before);
        }
    }
}
