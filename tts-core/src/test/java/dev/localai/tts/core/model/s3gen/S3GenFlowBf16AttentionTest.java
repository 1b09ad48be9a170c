package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.testing.RelErr;
import dev.localai.tts.core.runtime.Torch;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The bf16 flow at Turbo's sizes (heads of 64, where {@link Bf16Attention} takes the estimator's attention) with the
 * kernel (on its path here) against the same flow with LibTorch's bf16 attention, both measured against the fp32 flow of the same
 * random weights from the same noise: the kernel must not move the mel further from fp32 than LibTorch's attention
 * does. The fp32 flow with {@link Fp32Attention} against the same flow with LibTorch's fp32 attention: equal to
 * rounding. Each part skipped where its kernel does not run.
 */
class S3GenFlowBf16AttentionTest {
    @Test
    void theKernelKeepsTheBf16FlowAsCloseToFp32AsLibTorchsAttention() {
        Torch.init(2);
        assumeTrue(Bf16Attention.supported() || Fp32Attention.supported(), "neither attention kernel runs here");
        boolean before = Bf16Attention.enabled();
        boolean fp32Before = Fp32Attention.enabled();
        S3GenConfig c = S3GenConfig.turbo();
        try (S3GenFlow fp32 = S3GenFlow.random(c, 11, ScalarType.Float);
             S3GenFlow bf16 = S3GenFlow.random(c, 11, ScalarType.BFloat16);
             PointerScope scope = new PointerScope()) {
            for (int seed = 1; seed <= 2; seed++) {
                SplittableRandom rng = new SplittableRandom(seed);
                int prompt = seed == 1 ? 30 : 47;
                int gen = seed == 1 ? 12 : 29;
                Tensor tokens = Tensor.create(rng.longs(gen, 0, c.vocabSize()).toArray(), 1, gen);
                Tensor promptTokens = Tensor.create(rng.longs(prompt, 0, c.vocabSize()).toArray(), 1, prompt);
                torch.manual_seed(seed);
                Tensor feat = torch.randn(1, 2L * prompt, c.melBins());
                Tensor embedding = torch.randn(1, 192);
                Tensor z = fp32.noise(prompt, gen, seed);
                Fp32Attention.use(false);
                Tensor ref = fp32.inference(tokens, promptTokens, feat, embedding, z);
                if (Fp32Attention.supported()) {
                    // the fp32 flow with the fp32 kernel: LibTorch's fp32 flow to rounding
                    Fp32Attention.use(true);
                    Tensor fp32Kernel = fp32.inference(tokens, promptTokens, feat, embedding, z);
                    double d = RelErr.l2(fp32Kernel, ref);
                    System.out.printf("turbo-sized fp32 flow, %d frames: rel L2 %.3g between the fp32 kernel and "
                            + "LibTorch's attention%n", 2 * (prompt + gen), d);
                    assertThat(d).isLessThan(1e-5);
                }
                if (!Bf16Attention.supported()) {
                    continue;
                }
                Bf16Attention.use(false);
                Tensor libtorch = bf16.inference(tokens, promptTokens, feat, embedding, z);
                Bf16Attention.use(true);
                Tensor kernel = bf16.inference(tokens, promptTokens, feat, embedding, z);
                assertThat(kernel.isfinite().all().item_bool()).isTrue();
                double ours = RelErr.l2(kernel, ref);
                double theirs = RelErr.l2(libtorch, ref);
                System.out.printf("turbo-sized bf16 flow, %d frames: rel L2 from fp32 %.3g with the kernel (%s), %.3g "
                        + "with LibTorch's%n", 2 * (prompt + gen), ours, Bf16Attention.path(), theirs);
                assertThat(ours).isGreaterThan(0).isLessThanOrEqualTo(Math.max(1.5 * theirs, 1e-3));
                assertThat(RelErr.l2(kernel, libtorch)).isLessThanOrEqualTo(Math.max(2 * theirs, 1e-3));
            }
        } finally {
            Bf16Attention.use(before);
            Fp32Attention.use(fp32Before);
        }
    }
}
