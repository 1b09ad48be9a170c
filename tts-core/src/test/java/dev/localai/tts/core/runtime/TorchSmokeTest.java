package dev.localai.tts.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class TorchSmokeTest {
    @Test
    void matmulRuns() {
        try (Tensor a = torch.arange(new org.bytedeco.pytorch.Scalar(4)).to(torch.ScalarType.Float).reshape(2, 2);
             Tensor b = a.matmul(a)) {
            assertThat(b.sum().item_float()).isEqualTo(2 + 3 + 6 + 11);
        }
    }
}
