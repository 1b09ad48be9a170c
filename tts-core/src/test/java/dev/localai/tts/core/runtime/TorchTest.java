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
}
