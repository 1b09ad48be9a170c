package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The encoder's relative-position attention over a long sequence goes a block of query rows at a time (its score
 * tensors grow with the square of the length): the result is the whole product's, for blocks of every size, one row
 * included and sizes that do not divide the length.
 */
class RelPositionAttentionBlocksTest {
    private static final long D = 64;
    private static final long HEADS = 4;

    @BeforeAll
    static void load() {
        Torch.load();
    }

    @Test
    void blocksOfQueryRowsGiveTheWholeProductsResult() {
        for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
            // fp32: the same dot products, summed by kernels of other shapes; bf16: each block's products rounded
            double tolerance = type == ScalarType.Float ? 1e-5 : 2e-2;
            for (int t : new int[] {5, 50, 130}) {
                try (Weights w = new Weights(); PointerScope scope = new PointerScope()) {
                    torch.manual_seed(t);
                    RelPositionMultiHeadedAttention attn = new RelPositionMultiHeadedAttention(
                            w.track(new RandomParams(7).converted(type)), D, HEADS);
                    Tensor x = torch.randn(1, t, D).to(type);
                    Tensor pos = EspnetRelPositionalEncoding.table(t, D).to(type);
                    Tensor whole = attn.forward(x, pos, Long.MAX_VALUE).to(ScalarType.Float);
                    double scale = whole.abs().max().item_double();
                    long perRow = HEADS * 4 * t * x.element_size();
                    for (long rows : new long[] {1, 7, 16, t - 1}) {
                        Tensor blocked = attn.forward(x, pos, rows * perRow).to(ScalarType.Float);
                        assertThat(blocked.sizes().vec().get()).containsExactly(1, t, D);
                        double diff = blocked.sub(whole).abs().max().item_double();
                        assertThat(diff).as("%s, %d frames in blocks of %d rows", type, t, rows)
                                .isLessThanOrEqualTo(tolerance * scale);
                    }
                    // at the bound itself the whole product is taken
                    assertThat(torch.equal(attn.forward(x, pos, t * perRow).to(ScalarType.Float), whole)).isTrue();
                }
            }
        }
    }
}
