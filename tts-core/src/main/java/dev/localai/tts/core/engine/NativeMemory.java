package dev.localai.tts.core.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Process memory figures from {@code /proc} (Linux); -1 where unknown. */
public final class NativeMemory {
    private NativeMemory() {}

    /** Resident set size of this process in bytes (Java heap + native, incl. LibTorch). */
    public static long residentBytes() {
        return procKb(Path.of("/proc/self/status"), "VmRSS:");
    }

    /** Physical memory of the machine in bytes. */
    public static long totalBytes() {
        return procKb(Path.of("/proc/meminfo"), "MemTotal:");
    }

    private static long procKb(Path file, String field) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(field)) {
                    String[] parts = line.substring(field.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
