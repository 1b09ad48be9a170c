package dev.localai.tts.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Wall and process CPU time for the benchmarks, and what the machine looked like: on a shared machine the CPU time
 * (all of this process's threads, LibTorch's included) says more than the wall time.
 */
final class BenchClock {
    private BenchClock() {
    }

    /** CPU time of this process (every thread) in nanoseconds, or -1 when the JVM cannot tell. */
    static long cpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** One line: cores, the 1-minute load average (Linux) and the CPU model. */
    static String machine() {
        String load = "?";
        String cpu = "?";
        try {
            load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (IOException | RuntimeException e) {
            // not Linux: leave the unknowns
        }
        return String.format(Locale.ROOT, "machine: %d cores (%s), 1-min load average %s", Runtime.getRuntime()
                .availableProcessors(), cpu, load);
    }
}
