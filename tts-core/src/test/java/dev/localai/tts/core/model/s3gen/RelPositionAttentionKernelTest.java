package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The encoder's conformer attention at Turbo's sizes (512 wide, 8 heads of 64) runs on the relative-attention kernel
 * where it runs, and gives LibTorch's result: fp32 within fp32 rounding, bf16 at least as close to the module in double
 * precision as LibTorch's bf16 path; for a sequence long enough that LibTorch's path goes in blocks of query rows too.
 * Where the kernels are off the module's own path runs (and no kernel context is made).
 */
class RelPositionAttentionKernelTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    @AfterEach
    void on() {
        Bf16Attention.use(true);
        Fp32Attention.use(true);
    }

    private static double rel(Tensor a, Tensor ref) {
        Tensor d = a.to(ScalarType.Double);
        return d.sub(ref).norm().item_double() / ref.norm().item_double();
    }

    private static Tensor run(RelPositionMultiHeadedAttention attn, Tensor x, Tensor pos, boolean kernel, long block) {
        Bf16Attention.use(kernel);
        Fp32Attention.use(kernel);
        return attn.forward(x, pos, block);
    }

    @Test
    void theKernelGivesTheModulesResultAtTurbosSizes() {
        int ran = 0;
        for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
            boolean runs = type == ScalarType.Float ? Fp32Attention.supported() : Bf16Attention.supported();
            if (!runs) {
                continue;
            }
            for (long t : new long[] {1, 16, 100, 275}) {
                for (boolean blocked : t == 275 ? new boolean[] {false, true} : new boolean[] {false}) {
                    try (Weights w = new Weights(); Weights wd = new Weights(); PointerScope scope = new PointerScope()) {
                        torch.manual_seed(t);
                        RelPositionMultiHeadedAttention attn = new RelPositionMultiHeadedAttention(
                                w.track(new RandomParams(7).converted(type)), 512, 8);
                        // the same weights in double precision: the exact value of the module's maths
                        RelPositionMultiHeadedAttention exact = new RelPositionMultiHeadedAttention(
                                wd.track(new RandomParams(7).converted(type).converted(ScalarType.Double)), 512, 8);
                        Tensor x = torch.randn(1, t, 512).to(type);
                        Tensor pos = EspnetRelPositionalEncoding.table(t, 512).to(type);
                        long block = blocked ? 8 * 4 * t * x.element_size() * 16 : Long.MAX_VALUE; // 16 rows a block
                        Tensor kernel = run(attn, x, pos, true, block);
                        Tensor lib = run(attn, x, pos, false, block);
                        Tensor ref = exact.forward(x.to(ScalarType.Double), pos.to(ScalarType.Double));
                        double e = rel(kernel, ref);
                        double eLib = rel(lib, ref);
                        assertThat(kernel.scalar_type().value).isEqualTo(type.value);
                        assertThat(kernel.sizes().vec().get()).containsExactly(1, t, 512);
                        if (type == ScalarType.Float) {
                            assertThat(e).as("fp32, T %d (LibTorch %.2e)", t, eLib).isLessThan(2e-6);
                        } else {
                            assertThat(e).as("bf16, T %d (LibTorch %.2e)", t, eLib).isLessThan(Math.max(1e-2, 1.1 * eLib));
                        }
                        ran++;
                    }
                }
            }
        }
        assumeTrue(ran > 0, "neither relative-attention kernel runs here");
    }

    @Test
    void aKernelContextIsMadeExactlyWhereAKernelTakesTheTensors() {
        try (Weights w = new Weights(); PointerScope scope = new PointerScope()) {
            RelPositionMultiHeadedAttention attn = new RelPositionMultiHeadedAttention(
                    w.track(new RandomParams(7).converted(ScalarType.Float)), 512, 8);
            Tensor qu = torch.randn(1, 20, 8, 64);
            Tensor kv = torch.randn(1, 20, 512);
            Tensor p = torch.randn(1, 39, 512);
            Fp32Attention.use(true);
            assertThat(attn.kernelContext(qu, qu, kv, kv, p) != null).isEqualTo(Fp32Attention.enabled());
            Fp32Attention.use(false);
            assertThat(attn.kernelContext(qu, qu, kv, kv, p)).isNull();
            Fp32Attention.use(true);
            assertThat(attn.kernelContext(qu, qu, kv, kv, torch.randn(1, 40, 512))).isNull(); // not 2T - 1 positions
            RelPositionMultiHeadedAttention narrow = new RelPositionMultiHeadedAttention(
                    w.track(new RandomParams(7).converted(ScalarType.Float)), 256, 8); // heads of 32
            assertThat(narrow.kernelContext(torch.randn(1, 20, 8, 32), torch.randn(1, 20, 8, 32),
                    torch.randn(1, 20, 256), torch.randn(1, 20, 256), torch.randn(1, 39, 256))).isNull();
        }
    }
}
