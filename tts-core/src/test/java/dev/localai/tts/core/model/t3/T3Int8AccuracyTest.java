package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.checkpoint.SafeTensors;
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
import org.junit.jupiter.api.Test;

/**
 * How far int8 T3 weights ({@link Int8Matrix}: the GPT-2 blocks' matrices in int8 with per-row scales, inputs
 * quantized per call) move the speech logits from fp32 on the tiny golden checkpoint: the prefill's first-step
 * logits, then 40 teacher-forced decode steps (both models fed fp32's greedy tokens, so each step's logits are
 * compared on the same history). The bounds are those of bf16 ({@link T3Bf16AccuracyTest}); int8's rounding
 * (half a step of max|row|/127 per weight, 1/255 of the input's range) measures about twice bf16's here.
 */
class T3Int8AccuracyTest {
    @BeforeAll
    static void int8() {
        Torch.load();
        assumeTrue(Int8Matrix.usable(), "int8 weights need FBGEMM (x86-64 with AVX2) or the native int8 kernel");
    }

    /**
     * On each kernel (the native kernel quantizes each input row on its own, FBGEMM the whole input at once), and on
     * the native kernel with LibTorch's operations between the products or the whole block as one native call
     * ({@link dev.localai.tts.core.nn.DecoderBlockKernel}).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}, fused block {1}, {2} cache")
    @org.junit.jupiter.params.provider.CsvSource({"FBGEMM, false, FP32", "NATIVE, false, FP32", "NATIVE, true, FP32",
        "NATIVE, true, FP16", "NATIVE, true, INT8"})
    void int8LogitsStayCloseToFp32OverPrefillAndDecode(Int8Matrix.Kernel kernel, boolean fused, KvType cache) {
        assumeTrue(kernel == Int8Matrix.Kernel.NATIVE ? dev.localai.tts.core.nn.Int8Kernel.available()
                : Int8Matrix.supported(), kernel + " does not run here");
        assumeTrue(!fused || dev.localai.tts.core.nn.DecoderBlockKernel.available(), "no native block kernel here");
        boolean before = Int8Matrix.nativeKernel();
        boolean fusedBefore = dev.localai.tts.core.nn.DecoderBlockKernel.enabled();
        KvType cacheBefore = dev.localai.tts.core.nn.DecoderBlockKernel.cacheType();
        Int8Matrix.useNativeKernel(kernel == Int8Matrix.Kernel.NATIVE);
        dev.localai.tts.core.nn.DecoderBlockKernel.use(fused);
        dev.localai.tts.core.nn.DecoderBlockKernel.useCacheType(cache);
        try {
            check(kernel + (fused ? " fused" : "") + ", " + cache.label() + " cache", fused ? cache : KvType.FP32);
        } finally {
            Int8Matrix.useNativeKernel(before);
            dev.localai.tts.core.nn.DecoderBlockKernel.use(fusedBefore);
            dev.localai.tts.core.nn.DecoderBlockKernel.useCacheType(cacheBefore);
        }
    }

    private static void check(String kernel, KvType cacheType) {
        var file = Golden.ckpt().resolve("t3_turbo_v1.safetensors");
        try (T3 fp32 = T3.load(file, Device.cpu(), ScalarType.Float);
             T3 int8 = T3.load(file, Device.cpu(), ScalarType.Char);
             SafeTensors g = Golden.load("t3_prefill.safetensors");
             PointerScope scope = new PointerScope()) {
            assertThat(int8.weightType().value).isEqualTo(ScalarType.Char.value);
            assertThat(int8.dtype().value).isEqualTo(ScalarType.Float.value);
            T3Cond cond = new T3Cond(g.tensor("in.speaker_emb"), g.tensor("in.cond_prompt_speech_tokens"));
            Tensor embeds = fp32.inputEmbeddings(cond, g.tensor("in.text_tokens"));
            int l0 = (int) embeds.size(0);
            int steps = 40;
            try (KvCache c32 = fp32.newCache(l0 + steps);
                 KvCache c8 = int8.newCache(l0 + steps);
                 DecodeBuffers b32 = fp32.newBuffers();
                 DecodeBuffers b8 = int8.newBuffers()) {
                assertThat(c8.type()).isEqualTo(cacheType);
                Tensor h32 = fp32.prefillHidden(embeds, c32);
                Tensor h8 = int8.prefillHidden(embeds, c8);
                Tensor ref = fp32.speechHead(h32.narrow(0, l0 - 1, 1));
                Tensor low = int8.speechHead(h8.narrow(0, l0 - 1, 1));
                double worstL2 = RelErr.l2(low, ref);
                double worstMax = RelErr.max(low, ref);
                double vsUpstream = RelErr.l2(low, g.tensor("out.speech_logits"));
                int agree = 0;
                Tensor l32 = torch.empty(fp32.config().speechTokensDictSize());
                Tensor l8 = torch.empty(fp32.config().speechTokensDictSize());
                int token = (int) ref.argmax().item_long();
                for (int i = 0; i < steps; i++) {
                    try (PointerScope step = new PointerScope()) {
                        fp32.speechLogits(fp32.stepHidden(token, l0 + i, c32, b32), b32, l32);
                        int8.speechLogits(int8.stepHidden(token, l0 + i, c8, b8), b8, l8);
                        assertThat(torch.isfinite(l8).all().item_bool()).isTrue();
                        worstL2 = Math.max(worstL2, RelErr.l2(l8, l32));
                        worstMax = Math.max(worstMax, RelErr.max(l8, l32));
                        int next = (int) l32.argmax().item_long();
                        agree += next == (int) l8.argmax().item_long() ? 1 : 0;
                        token = next;
                    }
                }
                System.out.printf("t3 int8 (%s) vs fp32 logits over prefill + %d steps: worst rel L2 %.3g, worst rel "
                        + "max %.3g, greedy top-1 agreement %d/%d (first logits vs upstream fp32: rel L2 %.3g)%n",
                        kernel, steps, worstL2, worstMax, agree, steps, vsUpstream);
                assertThat(worstL2).isGreaterThan(0).isLessThan(T3Bf16AccuracyTest.MAX_L2_REL);
                assertThat(worstMax).isLessThan(T3Bf16AccuracyTest.MAX_REL);
                assertThat(vsUpstream).isLessThan(T3Bf16AccuracyTest.MAX_L2_REL);
                assertThat(agree).isGreaterThanOrEqualTo(steps * 9 / 10);
            }
        }
    }
}
