package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LoudnessComponentTest {
    @Test
    void writesTheGoldenNames(@TempDir Path tmp) {
        Path out = tmp.resolve("out.safetensors");
        LoudnessComponent.run(Golden.ckpt(), Golden.dir().resolve("loudness.safetensors"), out);
        try (SafeTensors g = Golden.load("loudness.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(Double.parseDouble(o.metadata().get("lufs_f64")))
                    .isCloseTo(Double.parseDouble(g.metadata().get("lufs_f64")), within(1e-4));
            assertThat(Golden.maxAbsDiff(o.tensor("mid.integrated_lufs"), g.tensor("mid.integrated_lufs")))
                    .isLessThan(1e-4);
            double peak = g.tensor("out.wav").abs().max().item_double();
            assertThat(Golden.maxAbsDiff(o.tensor("out.wav"), g.tensor("out.wav")) / peak).isLessThan(1e-5);
        }
    }
}
