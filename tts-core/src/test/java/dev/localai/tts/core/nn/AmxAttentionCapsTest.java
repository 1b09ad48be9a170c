package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When LibTorch's or oneDNN's dispatch caps keep {@link AmxAttention} off (pure logic: runs on every CPU). */
class AmxAttentionCapsTest {
    @Test
    void dispatchCapsTurnItOff() {
        assertThat(AmxAttention.allowedBy(null, null)).isTrue();
        assertThat(AmxAttention.allowedBy("avx512", "")).isTrue();
        assertThat(AmxAttention.allowedBy("avx2", null)).isFalse();
        assertThat(AmxAttention.allowedBy(" DEFAULT ", null)).isFalse();
        assertThat(AmxAttention.allowedBy(null, "AVX2")).isFalse();
        assertThat(AmxAttention.allowedBy(null, "avx512_core_bf16")).isFalse();
        assertThat(AmxAttention.allowedBy(null, "AVX512_CORE_AMX")).isTrue();
        assertThat(AmxAttention.allowedBy(null, "ALL")).isTrue();
    }
}
