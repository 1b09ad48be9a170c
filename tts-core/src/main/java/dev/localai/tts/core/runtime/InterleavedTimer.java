package dev.localai.tts.core.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Times several operations against each other by turns (A, B, C, A, B, C, ...) and reports each one's median. On a
 * shared virtual machine the speed of the whole box drifts by a third within a minute (other guests, the hypervisor
 * taking CPU time); timing one candidate after the other lets the drift decide which looks faster, while timing them
 * by turns exposes all of them to the same moments. Each operation runs once to warm up, then takes turns until its
 * own timed runs add up to {@code budgetMs} or it has {@code maxRuns} of them: a very slow candidate stops early, as
 * it would alone, and the fast ones keep alternating among themselves.
 */
final class InterleavedTimer {
    private final double budgetMs;
    private final int maxRuns;
    private final LongSupplier nanoClock;

    InterleavedTimer(double budgetMs, int maxRuns) {
        this(budgetMs, maxRuns, System::nanoTime);
    }

    InterleavedTimer(double budgetMs, int maxRuns, LongSupplier nanoClock) {
        if (budgetMs <= 0 || maxRuns < 1) {
            throw new IllegalArgumentException("budget and runs must be positive");
        }
        this.budgetMs = budgetMs;
        this.maxRuns = maxRuns;
        this.nanoClock = nanoClock;
    }

    /** The median time of each operation, in ms, in the order given. */
    double[] medians(List<Runnable> ops) {
        int n = ops.size();
        List<double[]> times = new ArrayList<>();
        int[] runs = new int[n];
        double[] spent = new double[n];
        for (Runnable op : ops) {
            op.run(); // warm-up: first-call allocations, JIT, oneDNN primitive creation
            times.add(new double[maxRuns]);
        }
        boolean any = true;
        while (any) {
            any = false;
            for (int i = 0; i < n; i++) {
                if (runs[i] >= maxRuns || (runs[i] > 0 && spent[i] >= budgetMs)) {
                    continue;
                }
                long a = nanoClock.getAsLong();
                ops.get(i).run();
                double ms = (nanoClock.getAsLong() - a) / 1e6;
                times.get(i)[runs[i]++] = ms;
                spent[i] += ms;
                any = true;
            }
        }
        double[] medians = new double[n];
        for (int i = 0; i < n; i++) {
            double[] s = Arrays.copyOf(times.get(i), runs[i]);
            Arrays.sort(s);
            medians[i] = s[s.length / 2];
        }
        return medians;
    }
}
