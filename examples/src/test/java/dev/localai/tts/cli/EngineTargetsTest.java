package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The verdicts and the Markdown row of {@code tts bench engine} (pure logic: no timing is involved). */
class EngineTargetsTest {
    private static Map<String, Object> figures(double rtf, double firstMs, double overFloor) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cpu", "AMD EPYC");
        r.put("cpu_family_model", "25/17");
        r.put("cpu_flags", "avx2 avx512f avx512_bf16");
        r.put("dispatch_caps", "none");
        r.put("cores", 2);
        r.put("dtype", "int8");
        r.put("probe_s", "kept");
        r.put("rtf", rtf);
        r.put("first_audio_ms", Math.round(firstMs));
        r.put("t3_over_floor", overFloor);
        return r;
    }

    @Test
    void eachTargetIsMetAtItsLimitAndMissedJustAboveIt() {
        Map<String, Object> r = figures(1.0, 1000, 1.3);
        EngineTargets.judge(r);
        assertThat(r.get("targets_met")).isEqualTo("rtf <= 1, first_audio_ms <= 1000, t3_over_floor <= 1.3");
        assertThat(r.get("targets_missed")).isEqualTo("none");

        r = figures(1.001, 1001, 1.31);
        EngineTargets.judge(r);
        assertThat(r.get("targets_met")).isEqualTo("none");
        assertThat(r.get("targets_missed")).isEqualTo(
                "rtf <= 1 (1.001), first_audio_ms <= 1000 (1001), t3_over_floor <= 1.3 (1.31)");
    }

    @Test
    void anAbsentOrNonFiniteFigureIsNeverCountedAsMet() {
        Map<String, Object> r = figures(0.66, 900, Double.NaN);
        r.remove("first_audio_ms");
        EngineTargets.judge(r);
        assertThat(r.get("targets_met")).isEqualTo("rtf <= 1");
        assertThat(r.get("targets_missed"))
                .isEqualTo("first_audio_ms <= 1000 (no figure), t3_over_floor <= 1.3 (no figure)");

        r = figures(0.66, 900, 1.1);
        r.put("rtf", "fast"); // not a number
        EngineTargets.judge(r);
        assertThat((String) r.get("targets_missed")).startsWith("rtf <= 1 (no figure)");
    }

    @Test
    void theMarkdownRowHasOneCellPerHeaderColumnAndNamesTheCpu() {
        Map<String, Object> r = figures(0.692, 1079, 1.19);
        r.put("rtf_range", "0.662-0.721");
        r.put("flow_dtype", "bf16");
        r.put("cpu_flags", "a|b"); // a bar inside a cell must not split it
        r.put("first_block_prompt_s", 5.0); // the engine shortened the first block's prompt: the row says so
        EngineTargets.judge(r);
        String[] header = EngineTargets.markdownHeader().split("\n");
        String row = EngineTargets.markdownRow(r);
        assertThat(header).hasSize(2);
        assertThat(cells(row)).isEqualTo(cells(header[0])).isEqualTo(cells(header[1]));
        assertThat(row).startsWith("| AMD EPYC (2 cores) | 25/17 | a/b | none | int8 / bf16 | kept | 0.692 (0.662-0.721) "
                + "| 1079 | 5.0 | ? |");
        assertThat(row).endsWith("| first_audio_ms <= 1000 (1079) |");
        // the listener's silence in the stream, and how much of the stream was made the cheaper way
        r.put("streamed_stall_ms", 431);
        r.put("streamed_stall_ms_range", "355-888");
        r.put("streamed_cheaper_audio_s", 5.16);
        assertThat(EngineTargets.markdownRow(r)).contains("| 431 (355-888) (5.16) |");
        // T3's ratio with its range over the repeated runs, where there were several
        r.put("t3_over_floor_range", "1.15-1.21");
        assertThat(EngineTargets.markdownRow(r)).contains("| 1.19 (1.15-1.21) |");
        // and a first block whose flow took one solver step
        r.put("first_block_flow_steps", 1);
        assertThat(EngineTargets.markdownRow(r)).contains("| 1079 | 5.0 (1 flow step) | ? |");
        r.put("first_block_flow_steps", 2);
        assertThat(EngineTargets.markdownRow(r)).contains("| 1079 | 5.0 | ? |");
    }

    private static long cells(String line) {
        return line.chars().filter(c -> c == '|').count();
    }
}
