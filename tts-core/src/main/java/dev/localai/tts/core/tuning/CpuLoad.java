package dev.localai.tts.core.tuning;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much of the machine's CPU time other processes used over an interval: the weight-type probe keeps its figures
 * only when the machine was quiet while it measured (a probe run beside a game or a build times the other process,
 * not the candidates, and its choice would then stand until its file is deleted).
 */
final class CpuLoad {
    /** Clock ticks per second of {@code /proc/stat} (USER_HZ, 100 on Linux). */
    private static final double TICKS_PER_SECOND = 100.0;

    /**
     * One reading: wall clock, the machine's busy CPU time (every CPU, every process), this process's CPU time, and
     * the CPUs counted; a figure that cannot be read is NaN.
     */
    record Sample(long wallNanos, double machineBusySeconds, double ownCpuSeconds, int cpus) {}

    private CpuLoad() {}

    /** A reading now. */
    static Sample sample() {
        return new Sample(System.nanoTime(), machineBusySeconds(Path.of("/proc/stat")), ownCpuSeconds(),
                Runtime.getRuntime().availableProcessors());
    }

    /** The shortest interval judged: {@code /proc/stat} counts in 10 ms ticks. */
    static final double MIN_WALL_SECONDS = 0.5;

    /**
     * The share of all CPUs' time between two readings that went to other processes (0 to 1): the machine's busy time
     * less this process's, over the wall time times the CPUs. NaN (not known) where a figure is missing or the
     * interval is shorter than {@link #MIN_WALL_SECONDS}.
     */
    static double othersShare(Sample before, Sample after) {
        double wall = (after.wallNanos() - before.wallNanos()) / 1e9;
        double busy = after.machineBusySeconds() - before.machineBusySeconds();
        double own = after.ownCpuSeconds() - before.ownCpuSeconds();
        if (!(wall >= MIN_WALL_SECONDS) || Double.isNaN(busy) || Double.isNaN(own) || after.cpus() < 1) {
            return Double.NaN;
        }
        return Math.min(1.0, Math.max(0.0, (busy - own) / (wall * after.cpus())));
    }

    /**
     * The busy seconds in a {@code /proc/stat} text: the first line's user, nice, system, irq, softirq and steal ticks
     * (idle and iowait are not busy); NaN when the line is missing or malformed.
     */
    static double busySeconds(String procStat) {
        for (String line : procStat.split("\n")) {
            if (line.startsWith("cpu ")) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 9) {
                    return Double.NaN;
                }
                try {
                    long busy = 0;
                    for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                        busy += Long.parseLong(f[i]);
                    }
                    return busy / TICKS_PER_SECOND;
                } catch (NumberFormatException e) {
                    return Double.NaN;
                }
            }
        }
        return Double.NaN;
    }

    private static double machineBusySeconds(Path procStat) {
        try {
            return Files.isReadable(procStat) ? busySeconds(Files.readString(procStat)) : Double.NaN;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** This process's CPU time, or NaN where the JDK does not give it (a runtime without jdk.management). */
    private static double ownCpuSeconds() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                long nanos = os.getProcessCpuTime();
                return nanos < 0 ? Double.NaN : nanos / 1e9;
            }
        } catch (LinkageError | RuntimeException e) {
            // not known: the probe then keeps its figures, as before
        }
        return Double.NaN;
    }
}
