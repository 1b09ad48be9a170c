package dev.localai.tts.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's CPU time counters (the first line of {@code /proc/stat}, in clock ticks): how much of a benchmark's
 * wall time the hypervisor gave to other guests ({@code steal}) and how busy the rest of the machine was. A figure
 * measured while a fifth of the CPU was stolen is not comparable with one measured on a quiet machine, so the
 * benchmark prints both.
 *
 * @param busy  user, nice, system, irq and softirq ticks of all CPUs
 * @param idle  idle and iowait ticks
 * @param steal ticks the hypervisor ran something else while this machine wanted the CPU
 */
record CpuTimes(long busy, long idle, long steal) {
    /** Null where {@code /proc/stat} cannot be read (not Linux). */
    static CpuTimes now() {
        try {
            return parse(Files.readAllLines(Path.of("/proc/stat")).get(0));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Parses {@code cpu  user nice system idle iowait irq softirq steal [guest guest_nice]}. */
    static CpuTimes parse(String line) {
        String[] f = line.trim().split("\\s+");
        if (!f[0].equals("cpu") || f.length < 5) {
            throw new IllegalArgumentException("not the total line of /proc/stat: " + line);
        }
        long[] v = new long[8];
        for (int i = 1; i < f.length && i <= 8; i++) {
            v[i - 1] = Long.parseLong(f[i]);
        }
        // guest time is already counted in user (and guest_nice in nice): not added again
        long busy = v[0] + v[1] + v[2] + v[5] + v[6];
        return new CpuTimes(busy, v[3] + v[4], v[7]);
    }

    /** Percent of all CPU ticks between {@code earlier} and this that were stolen; NaN when none passed. */
    double stealPercentSince(CpuTimes earlier) {
        long steal = this.steal - earlier.steal;
        long total = (busy - earlier.busy) + (idle - earlier.idle) + steal;
        return total <= 0 ? Double.NaN : 100.0 * steal / total;
    }
}
