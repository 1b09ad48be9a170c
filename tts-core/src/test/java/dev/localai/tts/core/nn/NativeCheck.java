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

/**
 * A C check of {@code tts-core/src/test/c}: a program that includes one of the native library's sources
 * ({@code src/main/c}) with a model of instructions this CPU may lack in place of them, compiled with gcc as the
 * library is ({@code build.sh}'s flags) and run. Skips (an assumption) where the library is not built either: off
 * Linux x86-64, without gcc, without a JDK's {@code jni.h}, or where the program prints {@code skip ...} first.
 */
final class NativeCheck {
    /** tts-core's sources: Maven runs tests in the module's directory, an IDE may run them in the repository's. */
    private static final Path MODULE = Files.isDirectory(Path.of("src/main/c")) ? Path.of("") : Path.of("tts-core");
    private static final Path MAIN_C = MODULE.resolve("src/main/c").toAbsolutePath();
    private static final Path TEST_C = MODULE.resolve("src/test/c").toAbsolutePath();

    private NativeCheck() {}

    /** Compiles {@code src/test/c/<source>} in dir and runs it (each step within its time); its output lines. */
    static List<String> run(Path dir, String source) throws IOException, InterruptedException {
        Path gcc = onPath("gcc");
        assumeTrue("Linux".equals(System.getProperty("os.name"))
                && List.of("amd64", "x86_64").contains(System.getProperty("os.arch")) && gcc != null,
                "the native library is built on Linux x86-64 with gcc only");
        assertThat(TEST_C.resolve(source)).as("tts-core's C checks").exists();
        Path jdk = Path.of(System.getProperty("java.home"));
        assumeTrue(Files.isRegularFile(jdk.resolve("include/jni.h")), "jni.h (a JDK, not a JRE)");
        Path exe = dir.resolve(source.replace(".c", ""));
        exec(dir, 180, gcc.toString(), "-O2", "-std=gnu11", "-fopenmp", "-ffp-contract=off", "-fno-strict-aliasing",
                "-I" + jdk.resolve("include"), "-I" + jdk.resolve("include/linux"), "-I" + MAIN_C, "-I" + TEST_C,
                "-o", exe.toString(), TEST_C.resolve(source).toString(), "-lm");
        List<String> out = exec(dir, 300, exe.toString());
        assumeTrue(out.isEmpty() || !out.get(0).startsWith("skip"), String.join("\n", out));
        return out;
    }

    /** The {@code key=value} fields of a line's words (a word without {@code =} maps to ""). */
    static Map<String, String> fields(String line) {
        Map<String, String> m = new HashMap<>();
        for (String f : line.trim().split(" +")) {
            String[] kv = f.split("=", 2);
            m.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        return m;
    }

    /** The lines that start with {@code prefix + " "}, as their fields after it. */
    static List<Map<String, String>> lines(List<String> out, String prefix) {
        List<Map<String, String>> l = new ArrayList<>();
        for (String line : out) {
            if (line.startsWith(prefix + " ")) {
                l.add(fields(line.substring(prefix.length() + 1)));
            }
        }
        return l;
    }

    /** The number after {@code prefix + " "} on its line. */
    static long count(List<String> out, String prefix) {
        return out.stream().filter(l -> l.startsWith(prefix + " ")).mapToLong(l -> Long.parseLong(
                l.substring(prefix.length() + 1).trim())).findFirst().orElseThrow(() -> new AssertionError(
                "no line '" + prefix + " N' in " + out));
    }

    private static Path onPath(String name) {
        String path = System.getenv("PATH");
        return path == null ? null : Arrays.stream(path.split(":")).map(d -> Path.of(d, name))
                .filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Runs a command in dir; its output lines; fails the test on a non-zero exit or a timeout. */
    private static List<String> exec(Path dir, long seconds, String... command)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "log", ".txt");
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
