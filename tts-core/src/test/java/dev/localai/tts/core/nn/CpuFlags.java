package dev.localai.tts.core.nn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The kernel's view of the CPU, for tests that check a native kernel's own detection against it. */
final class CpuFlags {
    private CpuFlags() {}

    /**
     * The flags of the first CPU in {@code /proc/cpuinfo} (empty elsewhere). Linux lists {@code avx} and the later
     * flags only where the OS saves their registers, as the kernels' own detection requires.
     */
    static List<String> get() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> List.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(List.of());
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }
}
