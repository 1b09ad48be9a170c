package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class T3LoadTest {

    @Test
    void stateDictShapesMatchTheGoldenCheckpointExactly() {
        LinkedHashMap<String, long[]> shapes = T3.stateDictShapes(T3Config.tiny());
        try (SafeTensors st = SafeTensors.open(Golden.ckpt().resolve("t3_turbo_v1.safetensors"))) {
            assertThat(shapes.keySet()).containsExactlyInAnyOrderElementsOf(st.keys());
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                assertThat(st.info(e.getKey()).shape()).as(e.getKey()).containsExactly(e.getValue());
            }
            assertThat(T3Config.fromCheckpoint(st)).isEqualTo(T3Config.tiny());
        }
        assertThat(shapes).hasSize(35);
    }

    @Test
    void turboShapesCountTheOfficial299Tensors() {
        LinkedHashMap<String, long[]> shapes = T3.stateDictShapes(T3Config.turbo());
        assertThat(shapes).hasSize(299);
        assertThat(shapes.get("tfmr.wpe.weight")).containsExactly(8196, 1024);
        assertThat(shapes.get("tfmr.h.23.attn.c_attn.weight")).containsExactly(1024, 3072);
        assertThat(shapes.get("speech_head.bias")).containsExactly(6563);
        long params = shapes.values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
        assertThat(params).isBetween(478_000_000L, 480_000_000L);
    }

    @Test
    void loadingConsumesEveryKeyIncludingTheUnusedWte() {
        try (SafeTensors st = SafeTensors.open(Golden.ckpt().resolve("t3_turbo_v1.safetensors"));
             StateDict sd = StateDict.of(st, Device.cpu());
             T3 t3 = T3.load(sd, T3Config.tiny(), ScalarType.Float)) {
            assertThat(sd.unconsumedKeys()).isEmpty();
            assertThat(t3.config().nLayer()).isEqualTo(2);
        }
    }
}
