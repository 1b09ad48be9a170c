package dev.localai.tts.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class HugePagesTest {

    @Test
    void theKernelsModeIsTheBracketedChoice() {
        assertThat(HugePages.kernelMode("always [madvise] never\n")).isEqualTo("madvise");
        assertThat(HugePages.kernelMode("[always] madvise never")).isEqualTo("always");
        assertThat(HugePages.kernelMode("always madvise [never]")).isEqualTo("never");
        assertThat(HugePages.kernelMode("")).isEqualTo("?");
        assertThat(HugePages.kernelMode("garbage [")).isEqualTo("?");
        assertThat(HugePages.kernelMode()).isIn("always", "madvise", "never", "?");
    }

    @Test
    void bothSwitchesAreReadAsTheAllocatorsReadThem() {
        assertThat(HugePages.libtorch(Map.of("THP_MEM_ALLOC_ENABLE", "1"))).isTrue();
        assertThat(HugePages.libtorch(Map.of("THP_MEM_ALLOC_ENABLE", " 1 "))).isTrue();
        assertThat(HugePages.libtorch(Map.of("THP_MEM_ALLOC_ENABLE", "0"))).isFalse();
        assertThat(HugePages.libtorch(Map.of())).isFalse();

        assertThat(HugePages.glibc(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"))).isTrue();
        assertThat(HugePages.glibc(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=1:glibc.malloc.hugetlb=2")))
                .isTrue();
        assertThat(HugePages.glibc(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0"))).isFalse();
        // glibc takes the last setting of a tunable
        assertThat(HugePages.glibc(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0")))
                .isFalse();
        assertThat(HugePages.glibc(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=1"))).isFalse();
        assertThat(HugePages.glibc(Map.of())).isFalse();
    }

    @Test
    void theReportSaysTheModeAndWhatWasAskedFor() {
        Map<String, String> both = Map.of("THP_MEM_ALLOC_ENABLE", "1", "GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
        assertThat(HugePages.describe(both, "madvise")).isEqualTo("madvise: libtorch+glibc");
        assertThat(HugePages.describe(Map.of("THP_MEM_ALLOC_ENABLE", "1"), "madvise")).isEqualTo("madvise: libtorch");
        assertThat(HugePages.describe(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"), "never"))
                .isEqualTo("never: glibc");
        assertThat(HugePages.describe(Map.of(), "always")).isEqualTo("always: not requested");
    }

    @Test
    void tensorsGetHugePagesUnderAlwaysOrWhenLibTorchMarksThem() {
        assertThat(HugePages.forTensors(Map.of(), "always")).isTrue();
        assertThat(HugePages.forTensors(Map.of("THP_MEM_ALLOC_ENABLE", "1"), "madvise")).isTrue();
        assertThat(HugePages.forTensors(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"), "madvise")).isFalse();
        assertThat(HugePages.forTensors(Map.of(), "madvise")).isFalse();
        assertThat(HugePages.forTensors(Map.of("THP_MEM_ALLOC_ENABLE", "1"), "never")).isFalse();
        assertThat(HugePages.forTensors(Map.of("THP_MEM_ALLOC_ENABLE", "1"), "?")).isFalse();
    }

    @Test
    void onlyAMadviseKernelWithoutBothSwitchesGetsTheHint() {
        Map<String, String> both = Map.of("THP_MEM_ALLOC_ENABLE", "1", "GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
        assertThat(HugePages.hint(Map.of(), "Linux", "madvise")).contains("THP_MEM_ALLOC_ENABLE=1")
                .contains("GLIBC_TUNABLES=glibc.malloc.hugetlb=1");
        assertThat(HugePages.hint(Map.of("THP_MEM_ALLOC_ENABLE", "1"), "Linux", "madvise")).isNotNull();
        assertThat(HugePages.hint(both, "Linux", "madvise")).isNull();
        assertThat(HugePages.hint(Map.of(), "Linux", "always")).isNull();
        assertThat(HugePages.hint(Map.of(), "Linux", "never")).isNull();
        assertThat(HugePages.hint(Map.of(), "Mac OS X", "madvise")).isNull();
        assertThat(HugePages.hint(Map.of(), null, "madvise")).isNull();
    }
}
