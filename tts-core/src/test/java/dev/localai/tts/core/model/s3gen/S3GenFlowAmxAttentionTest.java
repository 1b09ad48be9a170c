package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.nn.AmxAttention;
import dev.localai.tts.core.testing.RelErr;
import dev.localai.tts.core.runtime.Torch;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The bf16 flow at Turbo's sizes (heads of 64, where {@link AmxAttention} takes the estimator's attention) with the
 * AMX attention against the same flow with LibTorch's bf16 attention, both measured against the fp32 flow of the same
 * random weights from the same noise: the kernel must not move the mel further from fp32 than LibTorch's attention
 * does. Skipped where the kernel does not run.
 */
class S3GenFlowAmxAttentionTest {
    @Test
    void amxAttentionKeepsTheBf16FlowAsCloseToFp32AsLibTorchs() {
        Torch.init(2);
        assumeTrue(AmxAttention.supported(), "AMX attention does not run here (no AMX, or a capped dispatch)");
        boolean before = AmxAttention.enabled();
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
                Tensor ref = fp32.inference(tokens, promptTokens, feat, embedding, z);
                AmxAttention.use(false);
                Tensor libtorch = bf16.inference(tokens, promptTokens, feat, embedding, z);
                AmxAttention.use(true);
                Tensor amx = bf16.inference(tokens, promptTokens, feat, embedding, z);
                assertThat(amx.isfinite().all().item_bool()).isTrue();
                double ours = RelErr.l2(amx, ref);
                double theirs = RelErr.l2(libtorch, ref);
                System.out.printf("turbo-sized bf16 flow, %d frames: rel L2 from fp32 %.3g with AMX attention, %.3g "
                        + "with LibTorch's%n", 2 * (prompt + gen), ours, theirs);
                assertThat(ours).isGreaterThan(0).isLessThanOrEqualTo(Math.max(1.5 * theirs, 1e-3));
                assertThat(RelErr.l2(amx, libtorch)).isLessThanOrEqualTo(Math.max(2 * theirs, 1e-3));
            }
        } finally {
            AmxAttention.use(before);
        }
    }
}
