package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which path of {@link Fp32Attention} LibTorch's dispatch cap leaves (pure logic: runs on every CPU). */
class Fp32AttentionCapsTest {
    @Test
    void theCapLowersOrRemovesThePath() {
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX512, null)).isEqualTo(Fp32Attention.AVX512);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX512, "avx512")).isEqualTo(Fp32Attention.AVX512);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX512, " AVX2 ")).isEqualTo(Fp32Attention.AVX2);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX2, "avx2")).isEqualTo(Fp32Attention.AVX2);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX512, "default")).isZero();
        assertThat(Fp32Attention.pathUnder(0, null)).isZero();
    }
}
