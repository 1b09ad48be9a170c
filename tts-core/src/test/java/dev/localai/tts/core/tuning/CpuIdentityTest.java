package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Naming the CPU behind a benchmark figure from {@code /proc/cpuinfo} and the environment (pure parsing). */
class CpuIdentityTest {
    private static final String ZEN4 = """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            cpu family\t: 25
            model\t\t: 17
            model name\t: AMD EPYC
            flags\t\t: fpu sse2 avx2 fma f16c avx512f avx512bw avx512_vnni avx512_bf16 xsaves

            processor\t: 1
            vendor_id\t: GenuineIntel
            cpu family\t: 6
            model\t\t: 143
            model name\t: Intel(R) Xeon(R) Platinum 8480+
            flags\t\t: amx_tile amx_bf16 amx_int8
            """;

    @Test
    void theFirstProcessorNamesTheCpuWithItsFamilyAndTheKernelFlagsItLists() {
        CpuIdentity id = CpuIdentity.parse(ZEN4, Map.of());
        assertThat(id.model()).isEqualTo("AMD EPYC");
        assertThat(id.family()).isEqualTo("25/17");
        // in the engine's order, only the ones that choose kernels; nothing from the second processor
        assertThat(id.flags()).isEqualTo("avx2 fma f16c avx512f avx512bw avx512_vnni avx512_bf16");
        assertThat(id.caps()).isEqualTo("none");
    }

    @Test
    void anAmxXeonListsItsTileFlags() {
        String spr = "processor : 0\ncpu family : 6\nmodel : 143\nmodel name : Intel(R) Xeon(R) Platinum 8480+\n"
                + "flags : avx2 avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8 avx_vnni\n";
        CpuIdentity id = CpuIdentity.parse(spr, Map.of());
        assertThat(id.family()).isEqualTo("6/143");
        assertThat(id.flags()).isEqualTo("avx2 avx_vnni avx512f avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8");
    }

    @Test
    void theDispatchCapsInTheEnvironmentAreNamedAndBlankOnesIgnored() {
        CpuIdentity id = CpuIdentity.parse(ZEN4, Map.of("ATEN_CPU_CAPABILITY", "avx2", "ONEDNN_MAX_CPU_ISA", " AVX2 ",
                "DNNL_MAX_CPU_ISA", " ", "OPENBLAS_CORETYPE", "Haswell", "PATH", "/bin"));
        assertThat(id.caps()).isEqualTo("ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell");
    }

    @Test
    void anUnreadableCpuinfoGivesQuestionMarksNotAnError() {
        CpuIdentity id = CpuIdentity.parse("", Map.of());
        assertThat(id.model()).isEqualTo("?");
        assertThat(id.family()).isEqualTo("?");
        assertThat(id.flags()).isEqualTo("none");
        assertThat(CpuIdentity.parse("processor : 0\nflags : sse2\n", Map.of()).family()).isEqualTo("?");
    }

    @Test
    void theProbeKeyTellsAZen4FromAZen5BehindTheSameBareName() {
        String zen5 = ZEN4.replace("cpu family\t: 25", "cpu family\t: 26").replace("model\t\t: 17", "model\t\t: 2");
        CpuIdentity four = CpuIdentity.parse(ZEN4, Map.of());
        CpuIdentity five = CpuIdentity.parse(zen5, Map.of());
        assertThat(five.family()).isEqualTo("26/2");
        assertThat(four.probeKey())
                .isEqualTo("AMD EPYC (25/17; avx2 fma f16c avx512f avx512bw avx512_vnni avx512_bf16)");
        assertThat(five.probeKey()).isNotEqualTo(four.probeKey()).startsWith("AMD EPYC (26/2; ");
        // the same CPU with AVX-512 hidden by its hypervisor runs other kernels: another key
        String hidden = ZEN4.replace(" avx512f avx512bw avx512_vnni avx512_bf16", "");
        assertThat(CpuIdentity.parse(hidden, Map.of()).probeKey()).isEqualTo("AMD EPYC (25/17; avx2 fma f16c)");
        // the dispatch caps are not part of it (the probe keys them on their own, with a file of their own)
        assertThat(CpuIdentity.parse(ZEN4, Map.of("ATEN_CPU_CAPABILITY", "avx2")).probeKey())
                .isEqualTo(four.probeKey());
        assertThat(CpuIdentity.parse("", Map.of()).probeKey()).isEqualTo("?");
    }

    @Test
    void aFlagListedTwiceIsNamedOnceAndBreaksNothing() {
        CpuIdentity id = CpuIdentity.parse("processor : 0\ncpu family : 25\nmodel : 17\nmodel name : AMD EPYC\n"
                + "flags : avx2 fma avx2 avx512f avx512f\n", Map.of());
        assertThat(id.flags()).isEqualTo("avx2 fma avx512f");
        assertThat(id.probeKey()).isEqualTo("AMD EPYC (25/17; avx2 fma avx512f)");
    }
}
