package dev.localai.tts.core.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the CPU can do that changes the best weight type: native bf16 arithmetic ({@code amx_bf16} or
 * {@code avx512_bf16}, read from {@code /proc/cpuinfo} on Linux). With it, LibTorch's oneDNN kernels run bf16 T3
 * and S3Gen-flow products several times faster than fp32; without it bf16 is emulated and much slower
 * (docs/performance.md).
 */
public final class CpuFeatures {
    /** The cpuinfo flags that mean bf16 products run in hardware, strongest first. */
    static final List<String> BF16_FLAGS = List.of("amx_bf16", "avx512_bf16");

    private static volatile Optional<String> bf16Flag;

    private CpuFeatures() {}

    /** Whether this CPU has native bf16 arithmetic (Linux only; false elsewhere or when unknown). */
    public static boolean nativeBf16() {
        return bf16Flag().isPresent();
    }

    /** The flag that shows native bf16 ({@code amx_bf16} or {@code avx512_bf16}), if any. */
    public static Optional<String> bf16Flag() {
        Optional<String> f = bf16Flag;
        if (f == null) {
            f = bf16Flag(readCpuinfo());
            bf16Flag = f;
        }
        return f;
    }

    /** The strongest bf16 flag in the {@code flags} lines of a {@code /proc/cpuinfo} text (every core must show it). */
    static Optional<String> bf16Flag(String cpuinfo) {
        List<Set<String>> cores = cpuinfo.lines()
                .filter(l -> l.startsWith("flags"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim().toLowerCase(Locale.ROOT))
                .map(l -> Arrays.stream(l.split("\\s+")).collect(Collectors.toSet()))
                .toList();
        if (cores.isEmpty()) {
            return Optional.empty();
        }
        return BF16_FLAGS.stream().filter(flag -> cores.stream().allMatch(c -> c.contains(flag))).findFirst();
    }

    private static String readCpuinfo() {
        Path p = Path.of("/proc/cpuinfo");
        try {
            return Files.isReadable(p) ? Files.readString(p) : "";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
