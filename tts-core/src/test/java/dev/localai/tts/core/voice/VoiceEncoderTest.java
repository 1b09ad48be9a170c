package dev.localai.tts.core.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.TensorInfo;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class VoiceEncoderTest {

    static VoiceEncoder ve;

    @BeforeAll
    static void load() {
        ve = VoiceEncoder.load(VoiceEncoderConfig.tiny(), Golden.ckpt().resolve("ve.safetensors"), Device.cpu());
    }

    @AfterAll
    static void close() {
        ve.close();
    }

    @Test
    void stateDictShapesMatchTheCheckpointExactly() {
        LinkedHashMap<String, long[]> expected = VoiceEncoderConfig.stateDictShapes(VoiceEncoderConfig.tiny());
        assertThat(expected).hasSize(16);
        try (SafeTensors f = SafeTensors.open(Golden.ckpt().resolve("ve.safetensors"))) {
            Map<String, String> actual = new TreeMap<>();
            for (String k : f.keys()) {
                TensorInfo i = f.info(k);
                actual.put(k, java.util.Arrays.toString(i.shape()));
            }
            Map<String, String> mine = new TreeMap<>();
            expected.forEach((k, v) -> mine.put(k, java.util.Arrays.toString(v)));
            assertThat(mine).isEqualTo(actual);
        }
        assertThat(VoiceEncoderConfig.turbo().frameStep()).isEqualTo(77);
    }

    @Test
    void partialFramingFollowsUpstream() {
        // (frames) -> (partials, padded target)
        // 505 frames: 5 windows fit, the 37-frame remainder covers (37 + 83) / 160 = 0.75 < 0.8: dropped
        assertThat(VoiceEncoder.partials(505, 77, 160, 0.8)).containsExactly(5, 468);
        // shorter than one partial: one zero-padded partial
        assertThat(VoiceEncoder.partials(100, 77, 160, 0.8)).containsExactly(1, 160);
        assertThat(VoiceEncoder.partials(160, 77, 160, 0.8)).containsExactly(1, 160);
        assertThat(VoiceEncoder.partials(237, 77, 160, 0.8)).containsExactly(2, 237);
        // remainder 70 covers (70 + 83) / 160 = 0.96: one more, zero-padded partial
        assertThat(VoiceEncoder.partials(230, 77, 160, 0.8)).containsExactly(2, 237);
    }

    @Test
    void matchesGolden() {
        try (SafeTensors g = Golden.load("ve.safetensors");
             Tensor in = g.tensor("in.wav16k");
             Tensor iv = g.tensor("mid.trim_interval");
             Tensor melT = g.tensor("mid.mel");
             Tensor embT = g.tensor("out.embedding")) {
            float[] wav = TensorArrays.floats(in);
            long[] interval = TensorArrays.longs(iv);
            float[] melG = TensorArrays.floats(melT);
            float[] embG = TensorArrays.floats(embT);

            VoiceEncoder.Result r = ve.embedWithTrace(wav);
            assertThat(new long[] {r.trimStart(), r.trimEnd()}).containsExactly(interval);
            assertThat(r.mel()).hasSize(melG.length);
            double melDiff = maxAbs(r.mel(), melG);
            double embDiff = maxAbs(r.embedding(), embG);
            System.out.printf("ve golden: trim %d..%d, mel max|d| %.3g, embedding max|d| %.3g%n", r.trimStart(),
                    r.trimEnd(), melDiff, embDiff);
            assertThat(melDiff).isLessThan(1e-4);
            assertThat(embDiff).isLessThan(1e-5);
            double norm = 0;
            for (float v : r.embedding()) {
                norm += v * v;
            }
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-5));
        }
    }

    static double maxAbs(float[] a, float[] b) {
        assertThat(a).hasSize(b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - (double) b[i]));
        }
        return m;
    }
}
