package dev.localai.manager.vram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.manager.testing.Scripts;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPU memory from nvidia-smi, with fake nvidia-smi scripts, and its absence. */
class NvidiaSmiProbeTest {
    @TempDir
    Path tmp;

    @Test
    void sumsMemoryOverGpus() throws Exception {
        Path smi = Scripts.write(tmp, "nvidia-smi", """
            [ "$1" = "--query-gpu=memory.used,memory.total" ] || exit 9
            echo "1200, 24576"
            echo "300, 8192"
            """);
        assertThat(new NvidiaSmiProbe(smi.toString()).sample()).hasValue(new GpuProbe.Sample(1500, 32768));
    }

    @Test
    void anAbsentBinaryMeansUnknown() {
        assertThat(new NvidiaSmiProbe(tmp.resolve("nvidia-smi").toString()).sample()).isEmpty();
    }

    @Test
    void aFailingOrGarbledProbeMeansUnknown() throws Exception {
        assertThat(new NvidiaSmiProbe(Scripts.write(tmp, "fail", "echo 'NVIDIA-SMI has failed' >&2; exit 9").toString()).sample())
                .isEmpty();
        assertThat(new NvidiaSmiProbe(Scripts.write(tmp, "garbled", "echo '[N/A], [N/A]'").toString()).sample()).isEmpty();
    }
}
