package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bf16 flow attention's AMX path ({@link Bf16Attention#AMX}) where no AMX CPU is at hand, which is nearly
 * everywhere this project is tested: {@code src/test/c/amx_attention_check.c} compiles the kernel's own source with a
 * software model of the tile instructions ({@code src/test/c/amx_tiles.h}, after Intel's pseudocode: which bytes each
 * tile load and store touches, how TDPBF16PS sums, and the instructions' faults) and runs it beside the AVX512-BF16
 * path and a double-precision reference. {@link Bf16AttentionTest} runs the real instructions on an AMX CPU; this
 * test keeps the path's packing, tile shapes, partial blocks and thread split checked on every CPU with AVX512-BF16
 * (the path's softmax and packing use it), across frame counts around its blocks of 16 and 32, packed and padded rows,
 * one to three threads and a scratch heap of NaN bytes. Removing the second key half's load, loading one value block
 * for another or skipping the last odd key group each fails it (checked by hand when it was written).
 */
class Bf16AttentionAmxModelTest {
    /** tts-core's sources: Maven runs tests in the module's directory, an IDE may run them in the repository's. */
    private static final Path MODULE = Files.isDirectory(Path.of("src/main/c")) ? Path.of("") : Path.of("tts-core");
    private static final Path MAIN_C = MODULE.resolve("src/main/c").toAbsolutePath();
    private static final Path TEST_C = MODULE.resolve("src/test/c").toAbsolutePath();

    @Test
    void theAmxPathMatchesTheReferenceOnAModelOfTheTiles(@TempDir Path tmp) throws Exception {
        Path gcc = onPath("gcc");
        assumeTrue("Linux".equals(System.getProperty("os.name"))
                && List.of("amd64", "x86_64").contains(System.getProperty("os.arch")) && gcc != null,
                "the kernel is built on Linux x86-64 with gcc only");
        assertThat(MAIN_C.resolve("flow_attention_kernel.c")).as("tts-core's sources").exists();
        Path jdk = Path.of(System.getProperty("java.home"));
        assumeTrue(Files.isRegularFile(jdk.resolve("include/jni.h")), "jni.h (a JDK, not a JRE)");
        Path exe = tmp.resolve("amx_attention_check");
        run(tmp, 180, gcc.toString(), "-O2", "-std=gnu11", "-fopenmp", "-ffp-contract=off", "-fno-strict-aliasing",
                "-I" + jdk.resolve("include"), "-I" + jdk.resolve("include/linux"), "-I" + MAIN_C,
                "-I" + TEST_C, "-o", exe.toString(),
                TEST_C.resolve("amx_attention_check.c").toString(), "-lm");
        List<String> out = run(tmp, 300, exe.toString());
        assumeTrue(out.isEmpty() || !out.get(0).startsWith("skip"), String.join("\n", out));

        List<Map<String, String>> cases = new ArrayList<>();
        Map<String, String> flags = new HashMap<>();
        for (String line : out) {
            if (line.startsWith("case ")) {
                cases.add(fields(line.substring(5)));
            } else if (line.startsWith("threads ")) {
                flags.put("threads " + fields(line.substring(8)).get("t"), fields(line.substring(8)).get("equal"));
            } else {
                String[] kv = line.split("[= ]", 2);
                flags.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        }
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
        assertThat(flags).as(String.join("\n", out)).containsEntry("threads 300", "1").containsEntry("threads 301", "1")
                .containsEntry("one-frame", "equal=1").containsEntry("nan", "all=1").containsEntry("refused", "1")
                .containsEntry("untouched", "1");
        assertThat(Long.parseLong(flags.get("tile-ops").trim())).as("tile instructions run on the model")
                .isGreaterThan(1_000_000L);
    }

    private static Map<String, String> fields(String s) {
        Map<String, String> m = new HashMap<>();
        for (String f : s.trim().split(" +")) {
            String[] kv = f.split("=", 2);
            m.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        return m;
    }

    private static Path onPath(String name) {
        String path = System.getenv("PATH");
        return path == null ? null : Arrays.stream(path.split(":")).map(d -> Path.of(d, name))
                .filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Runs a command in dir; its output lines; fails the test on a non-zero exit or a timeout. */
    private static List<String> run(Path dir, long seconds, String... command) throws IOException, InterruptedException {
        Path log = dir.resolve("log-" + System.nanoTime());
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        assertThat(done).as("%s finished within %d s: %s", command[0], seconds, lines).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), String.join("\n", lines)).isZero();
        return lines;
    }
}
