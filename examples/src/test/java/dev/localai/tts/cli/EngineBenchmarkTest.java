package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.model.t3.T3Config;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The arithmetic behind {@code tts bench engine}'s floor and its JSON, and the whole report's shape on a tiny
 * checkpoint (the timings themselves are not tested).
 */
class EngineBenchmarkTest {
    @Test
    void weightBytesPerTokenFollowTheWeightType() {
        T3Config c = T3Config.turbo();
        long fp32 = EngineBenchmark.t3WeightBytesPerToken(c, ScalarType.Float);
        long bf16 = EngineBenchmark.t3WeightBytesPerToken(c, ScalarType.BFloat16);
        long int8 = EngineBenchmark.t3WeightBytesPerToken(c, ScalarType.Char);
        // 24 GPT-2 medium blocks (12.6 M weights each) plus the speech head and norms, 4 bytes each
        assertThat(fp32).isEqualTo(1_236_162_188L);
        assertThat(bf16 * 2).isEqualTo(fp32);
        // int8: one byte per block matrix weight, 8 bytes per row (scale and sum), the rest stays fp32
        long matrices = 24L * (1024 * 3072 + 1024 * 1024 + 1024 * 4096 + 4096 * 1024);
        assertThat(int8).isGreaterThan(matrices).isLessThan(fp32 / 3);
        assertThat(int8).isEqualTo(331_961_996L);
        // the native kernel reads no row sums; the fused decode's speech head is fp16 (6563 x 1024 x 2 bytes less)
        long rows = 24L * (3072 + 1024 + 4096 + 1024);
        assertThat(EngineBenchmark.t3WeightBytesPerToken(c, ScalarType.Char, true, false)).isEqualTo(int8 - 4 * rows);
        assertThat(EngineBenchmark.t3WeightBytesPerToken(c, ScalarType.Char, true, true))
                .isEqualTo(int8 - 4 * rows - 2L * 6563 * 1024);
        assertThat(EngineBenchmark.t3WeightBytesPerToken(c, ScalarType.Float, true, true)).isEqualTo(fp32);
    }

    @Test
    void jsonIsOneObjectWithEscapedStringsAndNullForNonFiniteNumbers() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cpu", "Intel \"X\"\\n");
        r.put("rtf", 1.5);
        r.put("first_audio_ms", Double.NaN);
        assertThat(EngineBenchmark.json(r))
                .isEqualTo("{\"cpu\": \"Intel \\\"X\\\"\\\\n\", \"rtf\": 1.5, \"first_audio_ms\": null}");
    }

    @Test
    void aPlayerStallsOnlyWhenTheNextChunkArrivesAfterTheAudioBeforeItHasPlayed() {
        // first audio at 1000 ms (0.5 s of it), the next at 1400 (in time), then at 2500 (1 s of audio had run out
        // at 1000 + 500 + 500 = 2000: a 500 ms stall), an empty chunk changes nothing
        assertThat(EngineBenchmark.playbackStallMs(new double[] {900, 1000, 1400, 2500, 2600},
                new double[] {0, 0.5, 0.5, 1.0, 0})).isEqualTo(500.0);
        assertThat(EngineBenchmark.playbackStallMs(new double[] {100, 200, 300}, new double[] {1, 1, 1})).isZero();
        assertThat(EngineBenchmark.playbackStallMs(new double[] {}, new double[] {})).isZero();
        // two stalls add up, and the clock restarts at each late arrival
        assertThat(EngineBenchmark.playbackStallMs(new double[] {0, 300, 900}, new double[] {0.1, 0.1, 0.1}))
                .isCloseTo(200.0 + 500.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(EngineBenchmark.playbackGaps(new double[] {0, 300, 900}, new double[] {0.1, 0.1, 0.1})).isEqualTo(2);
        assertThat(EngineBenchmark.playbackGaps(new double[] {900, 1000, 1400, 2500, 2600},
                new double[] {0, 0.5, 0.5, 1.0, 0})).isEqualTo(1);
        assertThat(EngineBenchmark.playbackGaps(new double[] {100, 200, 300}, new double[] {1, 1, 1})).isZero();
    }

    @Test
    void repeatedRunsReportTheMedianAndTheRange() {
        assertThat(EngineBenchmark.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(EngineBenchmark.median(new double[] {4, 1, 2, 3})).isEqualTo(2.5);
        assertThat(EngineBenchmark.range(new double[] {1.23456, 0.5, 2}, 3)).isEqualTo("0.5-2.0");
        assertThat(EngineBenchmark.range(new double[] {1834.4, 2210.6}, 0)).isEqualTo("1834-2211");
    }

    /**
     * The whole benchmark on a tiny checkpoint (random weights, small sizes: the figures mean nothing, the shape of the
     * report does): with two repeats every repeated figure is a median within its range, T3's ratio comes from two runs
     * each between two bandwidth measurements, and the targets are judged.
     */
    @Test
    void theWholeBenchmarkReportsEachRepeatedFigureAsAMedianWithinItsRange() throws Exception {
        Map<String, Object> r = EngineBenchmark.run(TinyModel.dir().toString(), 6, 2);
        assertThat(r).containsKeys("cpu", "cpu_family_model", "dtype", "threads", "rtf", "first_audio_ms",
                "voice_clone_ms",
                "t3_ms_per_token", "t3_weight_bytes_per_token", "t3_floor_ms_per_token", "targets_met",
                "targets_missed");
        assertThat(String.valueOf(r.get("fp32_matvec_gbps_before_after")).split("/"))
                .as("before the first run, between the two, after the second").hasSize(3)
                .allSatisfy(g -> assertThat(Double.parseDouble(g)).isPositive());
        assertWithinRange(r, "t3_ms_per_token");
        assertWithinRange(r, "t3_over_floor");
        assertWithinRange(r, "rtf");
        // a voice cloned from a 10 s clip each repeat, into a library the benchmark deletes afterwards
        assertWithinRange(r, "voice_clone_ms");
        assertThat((Long) r.get("voice_clone_ms")).isPositive();
        assertThat((Double) r.get("t3_over_floor")).isPositive().isFinite();
        assertThat((Long) r.get("t3_weight_bytes_per_token")).isPositive();
    }

    private static void assertWithinRange(Map<String, Object> r, String key) {
        double v = ((Number) r.get(key)).doubleValue();
        String[] range = String.valueOf(r.get(key + "_range")).split("-");
        assertThat(range).as(key + "_range").hasSize(2);
        assertThat(v).as(key).isBetween(Double.parseDouble(range[0]), Double.parseDouble(range[1]));
    }
}
