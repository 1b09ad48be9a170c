package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relative-position shift of the encoder's attention: out[i][j] = x[i][j + T-1-i], element by element, both as the
 * view it is for a contiguous (B, H, T, 2T-1) input and as upstream's pad-and-reshape for any other.
 */
class RelShiftTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    @Test
    void picksEachRowsWindowOfRelativePositions() {
        for (int t : new int[] {1, 2, 5, 17, 272}) {
            try (PointerScope scope = new PointerScope()) {
                long w = 2L * t - 1;
                Tensor x = torch.arange(new org.bytedeco.pytorch.Scalar(2 * 3 * t * w)).reshape(2, 3, t, w)
                        .to(torch.ScalarType.Float);
                Tensor view = RelPositionMultiHeadedAttention.relShift(x);
                // not contiguous: upstream's pad-and-reshape
                Tensor copy = RelPositionMultiHeadedAttention.relShift(x.transpose(2, 3).contiguous().transpose(2, 3));
                assertThat(view.sizes().vec().get()).containsExactly(2, 3, t, t);
                assertThat(torch.equal(view.contiguous(), copy.contiguous())).isTrue();
                float[] v = new float[2 * 3 * t * t];
                view.contiguous().data_ptr_float().get(v);
                for (int b = 0; b < 2; b++) {
                    for (int h = 0; h < 3; h++) {
                        for (int i = 0; i < t; i++) {
                            for (int j = 0; j < t; j++) {
                                long want = ((long) (b * 3 + h) * t + i) * w + (j + t - 1 - i);
                                assertThat(v[((b * 3 + h) * t + i) * t + j]).isEqualTo((float) want);
                            }
                        }
                    }
                }
            }
        }
    }
}
