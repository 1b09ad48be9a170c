package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bf16 flow attention's AMX path ({@link Bf16Attention#AMX}) where no AMX CPU is at hand, which is nearly
 * everywhere this project is tested: {@code src/test/c/amx_attention_check.c} compiles the kernel's own source with a
 * software model of the tile instructions ({@code src/test/c/amx_tiles.h}, after Intel's pseudocode: which bytes each
 * tile load and store touches, how TDPBF16PS sums, and the instructions' faults) and runs it beside the AVX512-BF16
 * path and a double-precision reference ({@link NativeCheck}). {@link Bf16AttentionTest} runs the real instructions
 * on an AMX CPU; this test keeps the path's packing, tile shapes, partial blocks and thread split checked on every CPU
 * with AVX512-BF16 (the path's softmax and packing use it), across frame counts around its blocks of 16 and 32, packed
 * and padded rows, one to three threads and a scratch heap of NaN bytes. Loading a key group's second half from the
 * first half's place, one value block for the next, or skipping the last odd key group each fails it (checked by
 * hand when it was written).
 */
class Bf16AttentionAmxModelTest {
    @Test
    void theAmxPathMatchesTheReferenceOnAModelOfTheTiles(@TempDir Path tmp) throws Exception {
        List<String> out = NativeCheck.run(tmp, "amx_attention_check.c");
        List<Map<String, String>> cases = NativeCheck.lines(out, "case");
        assertThat(cases).as("cases").hasSize(52);
        for (Map<String, String> c : cases) {
            double amx = Double.parseDouble(c.get("amx"));
            double avx = Double.parseDouble(c.get("avx"));
            double paths = Double.parseDouble(c.get("paths"));
            // the bounds of Bf16AttentionTest: each path within 8e-3 of attention in full precision over the same
            // bf16 inputs (bf16 outputs alone are 2^-9 = 2e-3 apart), the two paths within 1.6e-2 of each other
            assertThat(amx).as("AMX path against the reference, %s", c).isLessThanOrEqualTo(8e-3);
            assertThat(avx).as("AVX512-BF16 path against the reference, %s", c).isLessThanOrEqualTo(8e-3);
            assertThat(paths).as("the two paths, %s", c).isLessThanOrEqualTo(1.6e-2);
            if (c.get("t").equals("1")) {
                assertThat(amx).as("one frame attends to itself: exact, %s", c).isZero();
            }
        }
        assertThat(NativeCheck.lines(out, "threads")).as(String.join("\n", out)).hasSize(2)
                .allSatisfy(l -> assertThat(l).containsEntry("equal", "1"));
        assertThat(out).as("one frame, NaN, refused sizes, nothing written outside the heads").contains(
                "one-frame equal=1", "nan all=1", "refused=1", "untouched=1");
        assertThat(NativeCheck.count(out, "tile-ops")).as("tile instructions run on the model")
                .isGreaterThan(1_000_000L);
    }
}
