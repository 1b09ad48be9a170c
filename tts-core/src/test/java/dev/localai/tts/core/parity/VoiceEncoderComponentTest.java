package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.TensorArrays;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class VoiceEncoderComponentTest {

    @TempDir
    Path tmp;

    @Test
    void writesTheGoldenNamesWithinTolerance() {
        Path out = tmp.resolve("ve_out.safetensors");
        VoiceEncoderComponent.run(Golden.ckpt(), Golden.dir().resolve("ve.safetensors"), out);
        try (SafeTensors mine = SafeTensors.open(out);
             SafeTensors gold = Golden.load("ve.safetensors")) {
            assertThat(mine.keys()).containsExactlyInAnyOrderElementsOf(gold.keys());
            for (String k : gold.keys()) {
                assertThat(mine.info(k).shape()).as(k).containsExactly(gold.info(k).shape());
                assertThat(mine.info(k).dtype()).as(k).isEqualTo(gold.info(k).dtype());
            }
            try (Tensor a = mine.tensor("mid.trim_interval"); Tensor b = gold.tensor("mid.trim_interval")) {
                assertThat(TensorArrays.longs(a)).containsExactly(TensorArrays.longs(b));
            }
            try (Tensor a = mine.tensor("mid.mel"); Tensor b = gold.tensor("mid.mel")) {
                assertThat(Golden.maxAbsDiff(a, b)).isLessThan(1e-4);
            }
            try (Tensor a = mine.tensor("out.embedding"); Tensor b = gold.tensor("out.embedding")) {
                assertThat(Golden.maxAbsDiff(a, b)).isLessThan(1e-5);
            }
        }
    }
}
