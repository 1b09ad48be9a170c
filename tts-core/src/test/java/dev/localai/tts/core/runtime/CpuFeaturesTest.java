package dev.localai.tts.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CpuFeaturesTest {
    private static String cpuinfo(String... flagLines) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < flagLines.length; i++) {
            b.append("processor\t: ").append(i).append('\n')
                    .append("model name\t: Some CPU\n")
                    .append("flags\t\t: ").append(flagLines[i]).append("\n\n");
        }
        return b.toString();
    }

    @Test
    void amxIsPreferredOverAvx512Bf16() {
        assertThat(CpuFeatures.bf16Flag(cpuinfo("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile",
                "fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile"))).contains("amx_bf16");
        assertThat(CpuFeatures.bf16Flag(cpuinfo("fpu avx2 avx512f avx512_bf16"))).contains("avx512_bf16");
    }

    @Test
    void avx2OnlyOrUnknownCpusHaveNoNativeBf16() {
        assertThat(CpuFeatures.bf16Flag(cpuinfo("fpu sse4_2 avx avx2 fma f16c"))).isEmpty();
        assertThat(CpuFeatures.bf16Flag("")).isEmpty();
        assertThat(CpuFeatures.bf16Flag("Processor : ARMv8\nFeatures : fp asimd\n")).isEmpty();
        // a flag must not match as a substring of another one
        assertThat(CpuFeatures.bf16Flag(cpuinfo("avx512_bf16x amx_bf16_not"))).isEmpty();
    }

    @Test
    void everyCoreMustHaveTheFlag() {
        assertThat(CpuFeatures.bf16Flag(cpuinfo("avx2 avx512_bf16", "avx2"))).isEmpty();
    }

    @Test
    void thisMachineAnswersConsistently() {
        assertThat(CpuFeatures.nativeBf16()).isEqualTo(CpuFeatures.bf16Flag().isPresent());
    }
}
