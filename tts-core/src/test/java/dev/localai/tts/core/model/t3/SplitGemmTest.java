package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Split single-session products give the unsplit results (every row is the same dot product). */
class SplitGemmTest {
    @Test
    void splitMatrixVectorAndPrefillProductsEqualTheUnsplitOnes() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); SplitGemm split = new SplitGemm(2)) {
            torch.manual_seed(3);
            Tensor w = torch.randn(1536, 1024); // above MIN_SPLIT_ELEMENTS, an odd row split
            Tensor b = torch.randn(1536);
            Tensor x = torch.randn(1024);
            Tensor out = torch.empty(1536);
            split.mv(w, b, x, out);
            assertThat(torch.equal(out, torch.addmv(b, w, x))).isTrue();
            split.mv(w, null, x, out);
            assertThat(torch.equal(out, torch.mv(w, x))).isTrue();
            Tensor rows = torch.randn(37, 1024);
            Tensor got = split.linear(rows, w, b);
            Tensor expected = torch.linear(rows, w, new TensorOptional(b));
            double diff = got.sub(expected).abs().max().item_double() / expected.abs().max().item_double();
            System.out.println("split prefill product: max abs difference over max " + diff);
            assertThat(diff).isLessThanOrEqualTo(1e-6); // fp32 rounding of the bias add and GEMM blocking
            assertThat(torch.equal(split.linear(rows.narrow(0, 0, 3), w, null),
                    torch.linear(rows.narrow(0, 0, 3), w))).isTrue(); // few rows: not split
        }
    }
}
