package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class HiftComponentTest {
    @Test
    void componentWritesGoldenNamedOutputs(@TempDir Path tmp) {
        Path out = tmp.resolve("out.safetensors");
        HiftComponent.run(Golden.ckpt(), Golden.dir().resolve("hift.safetensors"), out);
        try (SafeTensors got = SafeTensors.open(out);
             SafeTensors ref = Golden.load("hift.safetensors")) {
            for (String k : new String[] {"mid.f0", "out.source", "out.wav"}) {
                try (Tensor a = got.tensor(k); Tensor b = ref.tensor(k)) {
                    assertThat(Golden.maxAbsDiff(a, b)).as(k).isLessThan(1e-4);
                }
            }
            assertThat(got.contains("out.wav_faded")).isTrue();
        }
    }
}
