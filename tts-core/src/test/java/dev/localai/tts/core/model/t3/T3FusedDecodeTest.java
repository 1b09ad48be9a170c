package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.nn.DecoderBlockKernel;
import dev.localai.tts.core.nn.Int8Matrix;
import dev.localai.tts.core.nn.KvType;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.RelErr;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;

/**
 * T3's decode steps with the whole block as one native call ({@link DecoderBlockKernel}) against the same int8 model
 * with LibTorch's operations between the native kernels, on the tiny golden checkpoint: 60 greedy steps from the
 * golden prefill, both fed the LibTorch run's tokens, so each step's logits compare on the same history.
 */
class T3FusedDecodeTest {
    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(DecoderBlockKernel.available(), "the native kernels are not loaded here");
    }

    /**
     * With an fp32 cache the hidden states differ by the rounding of the layer norms and the GELU; with the fp16 cache
     * the fused run also rounds each cached key and value to 11 significant bits (2^-11 relative at most), with the
     * int8 cache to half a step of its head row's max|x| / 127. The logits also differ by the fused steps' fp16 speech
     * head. {@code libTorchCache}: the LibTorch run's cache is of the same type as the fused run's (its rows quantized
     * and dequantized by {@link KvCache}'s LibTorch form) instead of fp32.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} cache, the same type on LibTorch''s side {1}")
    @org.junit.jupiter.params.provider.CsvSource({"FP32, false", "FP16, false", "INT8, false", "INT8, true"})
    void theFusedBlockGivesTheLogitsOfLibTorchsOperationsBetweenTheNativeKernels(KvType type, boolean libTorchCache) {
        var file = Golden.ckpt().resolve("t3_turbo_v1.safetensors");
        boolean before = DecoderBlockKernel.enabled();
        KvType typeBefore = DecoderBlockKernel.cacheType();
        boolean nativeBefore = Int8Matrix.nativeKernel();
        Int8Matrix.useNativeKernel(true);
        try (T3 t3 = T3.load(file, Device.cpu(), ScalarType.Char);
             SafeTensors g = Golden.load("t3_prefill.safetensors");
             PointerScope scope = new PointerScope()) {
            T3Cond cond = new T3Cond(g.tensor("in.speaker_emb"), g.tensor("in.cond_prompt_speech_tokens"));
            Tensor embeds = t3.inputEmbeddings(cond, g.tensor("in.text_tokens"));
            int l0 = (int) embeds.size(0);
            int steps = 60;
            DecoderBlockKernel.use(libTorchCache);
            DecoderBlockKernel.useCacheType(type);
            KvCache ca0 = t3.newCache(l0 + steps);
            DecoderBlockKernel.use(true);
            try (KvCache ca = ca0;
                 KvCache cb = t3.newCache(l0 + steps);
                 DecodeBuffers ba = t3.newBuffers();
                 DecodeBuffers bb = t3.newBuffers()) {
                assertThat(ca.type()).isEqualTo(libTorchCache ? type : KvType.FP32);
                assertThat(cb.type()).isEqualTo(type);
                DecoderBlockKernel.use(false);
                Tensor ha = t3.prefillHidden(embeds, ca);
                DecoderBlockKernel.use(true);
                t3.prefillHidden(embeds, cb);
                int token = (int) t3.speechHead(ha.narrow(0, l0 - 1, 1)).argmax().item_long();
                Tensor la = torch.empty(t3.config().speechTokensDictSize());
                Tensor lb = torch.empty(t3.config().speechTokensDictSize());
                double worst = 0;
                double worstHidden = 0;
                int agree = 0;
                for (int i = 0; i < steps; i++) {
                    try (PointerScope step = new PointerScope()) {
                        DecoderBlockKernel.use(false);
                        assertThat(t3.tfmr.fusedFor(ca)).isFalse();
                        Tensor hiddenA = t3.stepHidden(token, l0 + i, ca, ba).clone();
                        t3.speechLogits(hiddenA, ba, la);
                        DecoderBlockKernel.use(true);
                        assertThat(t3.tfmr.fusedFor(cb)).isTrue();
                        Tensor hiddenB = t3.stepHidden(token, l0 + i, cb, bb).clone();
                        t3.speechLogits(hiddenB, bb, lb);
                        worstHidden = Math.max(worstHidden, RelErr.l2(hiddenB, hiddenA));
                        assertThat(torch.isfinite(lb).all().item_bool()).isTrue();
                        worst = Math.max(worst, RelErr.l2(lb, la));
                        int next = (int) la.argmax().item_long();
                        agree += next == (int) lb.argmax().item_long() ? 1 : 0;
                        token = next;
                    }
                }
                System.out.printf("int8 T3 decode, the fused block vs LibTorch's operations between the native kernels "
                        + "over %d steps (%s cache, LibTorch's %s): worst rel L2 of the hidden states %.3g, of the "
                        + "logits %.3g (fp16 speech head), greedy agreement %d/%d%n", steps, type.label(),
                        ca.type().label(), worstHidden, worst, agree, steps);
                // rounding of the layer norms and the GELU, now and then one int8 step of an input: far below int8's
                // own distance from fp32 (T3Int8AccuracyTest); plus the cache's own rounding where only the fused run
                // has it
                // (measured on the AMD EPYC Zen 5 VM: fp32 1.3e-7, fp16 2.7e-4, int8 3.8e-4, int8 on both sides 9e-6:
                // there a row's quantization can move one step where the inputs differ by rounding)
                double bound = libTorchCache ? 1e-4 : switch (type) {
                    case FP32 -> 1e-5;
                    case FP16 -> 2e-3;
                    case INT8 -> 3e-3;
                };
                assertThat(worstHidden).isLessThan(bound);
                // the fused steps' speech head is fp16 (weights rounded to 11 bits): about 2e-4 of the logits' norm
                // here, against int8's 7e-4 from fp32 (T3Int8AccuracyTest)
                assertThat(worst).isLessThan(1e-3);
                assertThat(agree).isEqualTo(steps);
            }
        } finally {
            DecoderBlockKernel.use(before);
            DecoderBlockKernel.useCacheType(typeBefore);
            Int8Matrix.useNativeKernel(nativeBefore);
        }
    }
}
