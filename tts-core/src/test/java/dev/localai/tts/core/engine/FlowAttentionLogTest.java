package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine's log names the kernel the flow's attention runs on, as the flow's blocks choose it. */
class FlowAttentionLogTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    @Test
    void namesTheKernelEachFlowTypeAttendsWith() {
        String fp32 = TtsEngine.flowAttention(ScalarType.Float, false, false);
        if (Fp32Attention.enabled()) {
            assertThat(fp32).isEqualTo("native kernel, " + Fp32Attention.path());
        } else {
            assertThat(fp32).isEqualTo("LibTorch");
        }
        String bf16 = TtsEngine.flowAttention(ScalarType.BFloat16, false, false);
        if (Bf16Attention.enabled()) {
            assertThat(bf16).isEqualTo("native kernel, " + Bf16Attention.path());
        } else {
            assertThat(bf16).isEqualTo("LibTorch");
        }
        // a bf16 flow attending in fp32 takes LibTorch's attention (its rows are bf16), and a GPU always does
        assertThat(TtsEngine.flowAttention(ScalarType.BFloat16, true, false)).isEqualTo("LibTorch, fp32");
        assertThat(TtsEngine.flowAttention(ScalarType.Float, false, true)).isEqualTo("LibTorch");
    }

    @Test
    void followsTheKernelWhenItIsTurnedOff() {
        boolean before = Fp32Attention.enabled();
        try {
            Fp32Attention.use(false);
            assertThat(TtsEngine.flowAttention(ScalarType.Float, false, false)).isEqualTo("LibTorch");
        } finally {
            Fp32Attention.use(before);
        }
    }
}
