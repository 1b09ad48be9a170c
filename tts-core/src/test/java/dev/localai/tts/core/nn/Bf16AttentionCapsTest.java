package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which paths of {@link Bf16Attention} the dispatch caps and its property leave (pure logic: runs on every CPU). */
class Bf16AttentionCapsTest {
    private static final int BOTH = (1 << Bf16Attention.AMX) | (1 << Bf16Attention.AVX512_BF16);
    private static final int BF16 = 1 << Bf16Attention.AVX512_BF16;

    @Test
    void dispatchCapsRemoveThePathsTheyExclude() {
        assertThat(Bf16Attention.allowedPaths(BOTH, null, null)).isEqualTo(BOTH);
        assertThat(Bf16Attention.allowedPaths(BOTH, "avx512", "")).isEqualTo(BOTH);
        assertThat(Bf16Attention.allowedPaths(BOTH, "avx2", null)).isZero();
        assertThat(Bf16Attention.allowedPaths(BOTH, " DEFAULT ", null)).isZero();
        assertThat(Bf16Attention.allowedPaths(BOTH, null, "AVX2")).isZero();
        assertThat(Bf16Attention.allowedPaths(BOTH, null, "avx512_core")).isZero();
        assertThat(Bf16Attention.allowedPaths(BOTH, null, "avx512_core_bf16")).isEqualTo(BF16);
        assertThat(Bf16Attention.allowedPaths(BOTH, null, "AVX512_CORE_AMX")).isEqualTo(BOTH);
        assertThat(Bf16Attention.allowedPaths(BOTH, null, "ALL")).isEqualTo(BOTH);
        // a Zen 4: AVX512-BF16 only
        assertThat(Bf16Attention.allowedPaths(BF16, null, null)).isEqualTo(BF16);
        assertThat(Bf16Attention.allowedPaths(BF16, null, "AVX512_CORE_AMX")).isEqualTo(BF16);
        assertThat(Bf16Attention.allowedPaths(0, null, null)).isZero();
    }

    @Test
    void thePropertyTurnsItOffOrKeepsItOffTheTiles() {
        assertThat(Bf16Attention.chosen(BOTH, null)).isEqualTo(Bf16Attention.AMX);
        assertThat(Bf16Attention.chosen(BOTH, "avx512-bf16")).isEqualTo(Bf16Attention.AVX512_BF16);
        assertThat(Bf16Attention.chosen(BOTH, "FALSE")).isZero();
        assertThat(Bf16Attention.chosen(BF16, null)).isEqualTo(Bf16Attention.AVX512_BF16);
        assertThat(Bf16Attention.chosen(BF16, "false")).isZero();
        assertThat(Bf16Attention.chosen(0, null)).isZero();
    }
}
