package dev.localai.tts.core.tuning;

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
 *
 * <p><b>Racing</b> ({@link #medians(List, List)}): the caller names the decisions the times feed, each a group of
 * operations of which the fastest is taken unless it is not {@link WeightTypes#clearlyFaster} (by
 * {@link WeightTypes#MIN_GAIN}) than another. An operation then stops as soon as every decision it is in is settled,
 * so that clear winners and losers cost a few rounds, and a close call stops after {@link #RACE_ROUNDS} rounds (or at
 * its budget, if that comes first), where the caller's choice then goes by the medians. Runs of the same
 * round are pairs (taken moments apart, so the machine's drift cancels in their ratio), and a pair's outcome is
 * settled by a sign test over its rounds: "a clearly faster than b" when significantly more than half of the rounds
 * say so (at most {@link #ALPHA} by chance for two equally fast operations), likewise "b clearly faster", and "neither"
 * when significantly more than half of the rounds have the two within the margin; a difference of {@link #GROSS}
 * times in every one of at least {@link #GROSS_ROUNDS} rounds settles it sooner, one of {@link #VAST} times in every
 * one of {@link #VAST_ROUNDS} sooner still. An operation is done in a decision
 * when another of the group is settled clearly faster (it cannot be taken), or when its outcome against each other
 * operation still running is settled.
 */
final class InterleavedTimer {
    /**
     * The most chance there may be that a sign test settles an outcome for two operations that are in truth on its edge
     * (so at least 7 rounds: 7 of 7 agreeing is 1/128, 10 of 11 is 1/171). The probe checks after every round, so
     * across a whole race the chance of a call made too early is some times larger; it can only matter for a close
     * call, where either choice costs about the margin.
     */
    static final double ALPHA = 1.0 / 128;
    /** Timed runs of an operation in no decision (its figure is only reported). */
    static final int LONE_RUNS = 3;
    /**
     * A gross difference: the ratio past which a pair's outcome is settled after {@link #GROSS_ROUNDS} rounds that
     * all agree, before the sign test's seven. Two equally fast operations timed moments apart would have to come out
     * twice as slow as the other, the same one, in each of three rounds; a stall of the machine hits one run, not the
     * same operation in three rounds running. The probe's clear losers (fp32 and bf16 decode steps against int8's,
     * 8-9x; the fp32 flow block against bf16's, 3.4x; LibTorch's decode attention against the native kernel's, 4x on
     * the Zen 5 EPYC) stop there.
     */
    static final double GROSS = 2.0;
    /** Rounds that settle a {@link #GROSS} difference. */
    static final int GROSS_ROUNDS = 3;
    /**
     * A vast difference, settled after {@link #VAST_ROUNDS} rounds that all agree: for two equally fast operations
     * the same one would have to be stalled for three times its own length in both rounds. Under the AVX2 caps the
     * bf16 candidates, which such a CPU can only emulate, ran 13-18 times slower than the fp32 ones (flow blocks of
     * 94-129 ms against 7-10) and cost the weight types' race about 0.8 s in their three rounds.
     */
    static final double VAST = GROSS * GROSS;
    /** Rounds that settle a {@link #VAST} difference. */
    static final int VAST_ROUNDS = 2;
    /**
     * The most rounds an operation in a decision takes while its outcome stays open: a close call. By then no outcome
     * has come out in all but one of the rounds (11 of 12 is significant at {@link #ALPHA}), so the two operations are
     * within about the noise of each other, and the caller's choice by the medians (or the default, within
     * {@link WeightTypes#MIN_GAIN}) costs about that either way. A close call used to run to its budget: on the Zen 5
     * EPYC the convolution layouts (12-14 ms a run each) took about 20 rounds, 0.5 s of a 2.4-3.2 s probe.
     */
    static final int RACE_ROUNDS = 12;

    private final double budgetMs;
    private final int maxRuns;
    private final LongSupplier nanoClock;
    /** Run once before the timed rounds; null: each operation once. */
    private final Runnable warmUp;

    InterleavedTimer(double budgetMs, int maxRuns) {
        this(budgetMs, maxRuns, System::nanoTime);
    }

    InterleavedTimer(double budgetMs, int maxRuns, LongSupplier nanoClock) {
        this(budgetMs, maxRuns, nanoClock, null);
    }

    private InterleavedTimer(double budgetMs, int maxRuns, LongSupplier nanoClock, Runnable warmUp) {
        if (budgetMs <= 0 || maxRuns < 1) {
            throw new IllegalArgumentException("budget and runs must be positive");
        }
        this.budgetMs = budgetMs;
        this.maxRuns = maxRuns;
        this.nanoClock = nanoClock;
        this.warmUp = warmUp;
    }

    /**
     * This timer with {@code warmUp} run once before the rounds instead of every operation once: for operations
     * made of parts that are warm already, where a whole run of each would only cost time.
     */
    InterleavedTimer warmingUpWith(Runnable warmUp) {
        return new InterleavedTimer(budgetMs, maxRuns, nanoClock, java.util.Objects.requireNonNull(warmUp));
    }

    /** The median time of each operation, in ms, in the order given; every one runs to its budget or run limit. */
    double[] medians(List<Runnable> ops) {
        return race(ops, null);
    }

    /**
     * The median time of each operation, in ms, in the order given, racing them (see the class comment): {@code
     * decisions} lists groups of indices into {@code ops}, each group one choice the times feed; an operation in no
     * group stops after {@link #LONE_RUNS} timed runs.
     */
    double[] medians(List<Runnable> ops, List<int[]> decisions) {
        for (int[] g : decisions) {
            for (int i : g) {
                if (i < 0 || i >= ops.size()) {
                    throw new IllegalArgumentException("no operation " + i + " among " + ops.size());
                }
            }
        }
        return race(ops, decisions);
    }

    private double[] race(List<Runnable> ops, List<int[]> decisions) {
        int n = ops.size();
        double[][] times = new double[n][maxRuns];
        int[] runs = new int[n];
        double[] spent = new double[n];
        boolean[] active = new boolean[n];
        boolean[] raced = new boolean[n]; // in some decision: held to RACE_ROUNDS
        for (int[] g : decisions == null ? List.<int[]>of() : decisions) {
            for (int i : g) {
                raced[i] = true;
            }
        }
        if (warmUp != null) {
            warmUp.run();
        } else {
            for (Runnable op : ops) {
                op.run(); // warm-up: first-call allocations, JIT, oneDNN primitive creation
            }
        }
        Arrays.fill(active, true);
        boolean any = true;
        while (any) {
            any = false;
            for (int i = 0; i < n; i++) {
                if (!active[i]) {
                    continue;
                }
                long a = nanoClock.getAsLong();
                ops.get(i).run();
                double ms = (nanoClock.getAsLong() - a) / 1e6;
                times[i][runs[i]++] = ms;
                spent[i] += ms;
                any = true;
            }
            boolean[] stop = new boolean[n];
            for (int i = 0; i < n; i++) {
                stop[i] = active[i] && (runs[i] >= maxRuns || spent[i] >= budgetMs
                        || raced[i] && runs[i] >= RACE_ROUNDS
                        || decisions != null && settled(i, decisions, times, runs, active));
            }
            for (int i = 0; i < n; i++) {
                active[i] &= !stop[i];
            }
        }
        double[] medians = new double[n];
        for (int i = 0; i < n; i++) {
            double[] s = Arrays.copyOf(times[i], runs[i]);
            Arrays.sort(s);
            medians[i] = s[s.length / 2];
        }
        return medians;
    }

    /** Whether operation {@code i} is done in every decision it is in (or has had its runs, when in none). */
    private static boolean settled(int i, List<int[]> decisions, double[][] times, int[] runs, boolean[] active) {
        boolean inAny = false;
        for (int[] g : decisions) {
            if (!contains(g, i)) {
                continue;
            }
            inAny = true;
            boolean beaten = false;
            boolean allSettled = true;
            for (int j : g) {
                if (j == i) {
                    continue;
                }
                Outcome o = outcome(times[i], times[j], Math.min(runs[i], runs[j]));
                beaten |= o == Outcome.SECOND_FASTER;
                allSettled &= o != Outcome.OPEN || !active[j];
            }
            if (!beaten && !allSettled) {
                return false;
            }
        }
        return inAny || runs[i] >= LONE_RUNS;
    }

    private static boolean contains(int[] g, int i) {
        for (int x : g) {
            if (x == i) {
                return true;
            }
        }
        return false;
    }

    /** A pair's outcome over its rounds, as {@link WeightTypes#clearlyFaster} would call it. */
    enum Outcome { FIRST_FASTER, SECOND_FASTER, NEITHER, OPEN }

    /**
     * The settled outcome of operations a and b over their first {@code rounds} runs (run r of each came in round r),
     * or {@link Outcome#OPEN} while no outcome has significantly more than half of the rounds, no {@link #GROSS}
     * difference has held in every one of at least {@link #GROSS_ROUNDS} rounds and no {@link #VAST} one in every one
     * of at least {@link #VAST_ROUNDS}.
     */
    static Outcome outcome(double[] a, double[] b, int rounds) {
        Outcome clear = inEveryRound(a, b, rounds, GROSS, GROSS_ROUNDS);
        if (clear == Outcome.OPEN) {
            clear = inEveryRound(a, b, rounds, VAST, VAST_ROUNDS);
        }
        if (clear != Outcome.OPEN) {
            return clear;
        }
        int first = 0;
        int second = 0;
        for (int r = 0; r < rounds; r++) {
            if (WeightTypes.clearlyFaster(a[r], b[r])) {
                first++;
            } else if (WeightTypes.clearlyFaster(b[r], a[r])) {
                second++;
            }
        }
        if (significant(first, rounds)) {
            return Outcome.FIRST_FASTER;
        }
        if (significant(second, rounds)) {
            return Outcome.SECOND_FASTER;
        }
        return significant(rounds - first - second, rounds) ? Outcome.NEITHER : Outcome.OPEN;
    }

    /** Which of a and b was at least {@code ratio} times faster in every one of at least {@code minRounds} rounds. */
    private static Outcome inEveryRound(double[] a, double[] b, int rounds, double ratio, int minRounds) {
        if (rounds < minRounds) {
            return Outcome.OPEN;
        }
        boolean aFaster = true;
        boolean bFaster = true;
        for (int r = 0; r < rounds; r++) {
            aFaster &= a[r] * ratio <= b[r];
            bFaster &= b[r] * ratio <= a[r];
        }
        return aFaster ? Outcome.FIRST_FASTER : bFaster ? Outcome.SECOND_FASTER : Outcome.OPEN;
    }

    /** Whether k or more of n fair coin flips would come up heads with a chance of at most {@link #ALPHA}. */
    static boolean significant(int k, int n) {
        if (n == 0 || k <= n / 2) {
            return false;
        }
        double tail = 0;
        double c = 1; // C(n, m), m from 0
        for (int m = 0; m <= n; m++) {
            if (m >= k) {
                tail += c;
            }
            c = c * (n - m) / (m + 1);
        }
        return tail / Math.pow(2, n) <= ALPHA;
    }
}
