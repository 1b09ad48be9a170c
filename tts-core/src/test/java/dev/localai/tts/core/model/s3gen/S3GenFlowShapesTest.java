package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class S3GenFlowShapesTest {

    @Test
    void tinyShapesEqualTheGoldenCheckpointsFlowKeys() {
        Map<String, String> expected = new TreeMap<>();
        try (SafeTensors f = SafeTensors.open(Golden.ckpt().resolve(S3GenFlow.CHECKPOINT))) {
            for (String k : f.keys()) {
                if (k.startsWith("flow.")) {
                    expected.put(k, java.util.Arrays.toString(f.info(k).shape()));
                }
            }
        }
        Map<String, String> actual = new TreeMap<>();
        S3GenFlow.stateDictShapes(S3GenConfig.tiny()).forEach((k, v) -> actual.put(k, java.util.Arrays.toString(v)));
        assertThat(actual).isEqualTo(expected);
        assertThat(actual).hasSize(149);
    }

    @Test
    void turboShapesHaveTheOfficialFlowTensorCount() {
        var shapes = S3GenFlow.stateDictShapes(S3GenConfig.turbo());
        // spec 11.3: flow. = 1122 tensors (encoder 206, estimator 911, other 5)
        assertThat(shapes).hasSize(1122);
        assertThat(shapes.get("flow.decoder.estimator.time_embed_mixer.weight")).containsExactly(1024, 2048);
        assertThat(shapes.get("flow.decoder.estimator.up_blocks.0.0.block1.block.0.weight")).containsExactly(256, 512, 3);
        assertThat(shapes.get("flow.encoder.up_encoders.3.self_attn.pos_bias_v")).containsExactly(8, 64);
        assertThat(shapes.keySet().stream().filter(k -> k.startsWith("flow.encoder.")).count()).isEqualTo(206);
    }

    @Test
    void configInferredFromTheTinyCheckpointIsTiny() {
        try (var root = dev.localai.tts.core.checkpoint.StateDict.open(Golden.ckpt().resolve(S3GenFlow.CHECKPOINT),
                dev.localai.tts.core.runtime.Device.cpu())) {
            assertThat(S3GenFlow.inferConfig(root)).isEqualTo(S3GenConfig.tiny());
        }
    }
}
