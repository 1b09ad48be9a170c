package dev.localai.tts.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TorchTest {
    @Test
    void openBlasIsPinnedToOneThreadWithoutAnEnvironmentSetting() {
        Torch.load();
        assertThat(Torch.pinBlasThreads(null)).isEqualTo(1);
        assertThat(Torch.pinBlasThreads("")).isEqualTo(1);
    }

    @Test
    void anEnvironmentSettingIsKept() {
        assertThat(Torch.pinBlasThreads("3")).isEqualTo(3);
        assertThat(Torch.pinBlasThreads("many")).isEqualTo(-1);
        String env = System.getenv("OPENBLAS_NUM_THREADS");
        assertThat(Torch.blasThreads()).isEqualTo(env == null || env.isBlank() ? 1 : Integer.parseInt(env.trim()));
    }

    @Test
    void theArenaLimitIsReadFromEitherGlibcSetting() {
        assertThat(Torch.mallocArenaMax(java.util.Map.of())).isEqualTo("unset");
        assertThat(Torch.mallocArenaMax(java.util.Map.of("MALLOC_ARENA_MAX", " 2 "))).isEqualTo("2");
        assertThat(Torch.mallocArenaMax(java.util.Map.of("MALLOC_ARENA_MAX", ""))).isEqualTo("unset");
        assertThat(Torch.mallocArenaMax(java.util.Map.of("GLIBC_TUNABLES",
                "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1"))).isEqualTo("1");
        assertThat(Torch.mallocArenaMax(java.util.Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_test=1")))
                .isEqualTo("unset");
        // the test JVMs start as the launchers do (root pom: surefire's environment)
        assertThat(Torch.mallocArenaMax()).isEqualTo("1");
    }

    @Test
    void onlyALinuxProcessWithoutALimitIsToldToSetOne() {
        assertThat(Torch.mallocArenaHint(java.util.Map.of(), "Linux")).contains("MALLOC_ARENA_MAX=1");
        assertThat(Torch.mallocArenaHint(java.util.Map.of("MALLOC_ARENA_MAX", "1"), "Linux")).isNull();
        assertThat(Torch.mallocArenaHint(java.util.Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2"), "Linux"))
                .isNull();
        assertThat(Torch.mallocArenaHint(java.util.Map.of(), "Mac OS X")).isNull();
        assertThat(Torch.mallocArenaHint(java.util.Map.of(), null)).isNull();
    }
}
