package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InterleavedTimerTest {
    /**
     * A machine that slows down as time passes (a neighbour starting a job): every operation costs its own work
     * times a factor that grows with the clock. The clock only moves when an operation runs.
     */
    static final class DriftingMachine {
        long now;
        final double slowdownPerSecond;

        DriftingMachine(double slowdownPerSecond) {
            this.slowdownPerSecond = slowdownPerSecond;
        }

        Runnable op(double workMs) {
            return () -> now += (long) (workMs * 1e6 * (1 + slowdownPerSecond * now / 1e9));
        }
    }

    @Test
    void theFasterCandidateWinsOnAMachineThatSlowsDownWhileItIsMeasured() {
        // B is truly 20% faster than A, but timing A first and B after it on this machine would show the opposite
        DriftingMachine m = new DriftingMachine(2.0);
        Runnable a = m.op(12);
        Runnable b = m.op(10);
        double[] ms = new InterleavedTimer(250, 64, () -> m.now).medians(List.of(a, b));
        assertThat(ms[1]).isLessThan(ms[0]);

        // the same operations timed one after the other, as the probe did before
        DriftingMachine s = new DriftingMachine(2.0);
        double aAlone = new InterleavedTimer(250, 64, () -> s.now).medians(List.of(s.op(12)))[0];
        double bAlone = new InterleavedTimer(250, 64, () -> s.now).medians(List.of(s.op(10)))[0];
        assertThat(bAlone).as("sequential timing is fooled by the drift").isGreaterThan(aAlone);
    }

    @Test
    void operationsTakeTurnsAfterOneWarmUpEach() {
        List<String> calls = new ArrayList<>();
        long[] clock = {0};
        Runnable a = () -> {
            calls.add("a");
            clock[0] += 1_000_000;
        };
        Runnable b = () -> {
            calls.add("b");
            clock[0] += 1_000_000;
        };
        new InterleavedTimer(3, 64, () -> clock[0]).medians(List.of(a, b));
        // warm-ups, then a, b, a, b, a, b: 3 ms of timed runs each
        assertThat(calls).containsExactly("a", "b", "a", "b", "a", "b", "a", "b");
    }

    @Test
    void aVerySlowCandidateStopsAtItsBudgetWhileTheFastOnesGoOn() {
        int[] count = new int[2];
        long[] clock = {0};
        Runnable slow = () -> {
            count[0]++;
            clock[0] += 400_000_000L;
        };
        Runnable fast = () -> {
            count[1]++;
            clock[0] += 2_000_000L;
        };
        double[] ms = new InterleavedTimer(250, 64, () -> clock[0]).medians(List.of(slow, fast));
        assertThat(count[0]).isEqualTo(2); // warm-up and one timed run: over budget already
        assertThat(count[1]).isEqualTo(1 + 64); // warm-up and every run allowed (64 x 2 ms is within the budget)
        assertThat(ms).containsExactly(400.0, 2.0);
    }

    /** An operation of fixed cost that counts its runs, on a clock that only moves when operations run. */
    static final class Counted implements Runnable {
        final long[] clock;
        final double[] costsMs;
        int runs;

        /** Costs taken in turn, over and over (a list of one: the same every run). */
        Counted(long[] clock, double... costsMs) {
            this.clock = clock;
            this.costsMs = costsMs;
        }

        @Override
        public void run() {
            clock[0] += (long) (costsMs[runs++ % costsMs.length] * 1e6);
        }
    }

    /** What a race of {@link Counted} operations gave: the operations (their run counts), medians and ms spent. */
    record Race(Counted[] ops, double[] ms, double spentMs) {}

    /** Operations of these costs (each taken in turn) on one clock, raced with a 250 ms budget and 64 runs at most. */
    private static Race race(List<int[]> decisions, double[]... costs) {
        long[] clock = {0};
        Counted[] ops = new Counted[costs.length];
        for (int i = 0; i < costs.length; i++) {
            ops[i] = new Counted(clock, costs[i]);
        }
        double[] ms = new InterleavedTimer(250, 64, () -> clock[0]).medians(List.<Runnable>of(ops), decisions);
        return new Race(ops, ms, clock[0] / 1e6);
    }

    /** 10 against 10.4 ms, each run 10% either way in turn: neither within nor past the 5% margin often enough. */
    private static final double[] CLOSE_A = {9, 11, 10};
    private static final double[] CLOSE_B = {11.44, 9.36, 10.4};

    @Test
    void aRaceEndsEachCandidateOnceItsChoiceIsSettled() {
        Race r = race(List.of(new int[] {0, 1, 2}), new double[] {12}, new double[] {7}, new double[] {11});
        assertThat(r.ms()).containsExactly(12.0, 7.0, 11.0);
        // warm-up and 7 rounds: 7 of 7 agreeing is the first count the sign test accepts
        assertThat(new int[] {r.ops()[0].runs, r.ops()[1].runs, r.ops()[2].runs}).containsExactly(8, 8, 8);
        assertThat(r.spentMs()).as("against 750 ms of runs without the race").isLessThan(250);
    }

    @Test
    void aGrossDifferenceIsSettledInThreeRounds() {
        // 3 ms against 11 and 10 (3.7x and 3.3x): three rounds that all agree, not seven
        Race r = race(List.of(new int[] {0, 1, 2}), new double[] {11}, new double[] {3}, new double[] {10});
        assertThat(r.ms()).containsExactly(11.0, 3.0, 10.0);
        assertThat(new int[] {r.ops()[0].runs, r.ops()[1].runs, r.ops()[2].runs}).containsExactly(4, 4, 4);
        // 2x in two rounds and 1.9x in the third: the sign test's seven rounds
        double[] a = {10, 10, 10, 10, 10, 10, 10};
        double[] b = {20, 20, 19, 20, 20, 20, 20};
        assertThat(InterleavedTimer.outcome(a, b, 3)).isEqualTo(InterleavedTimer.Outcome.OPEN);
        assertThat(InterleavedTimer.outcome(a, new double[] {20, 20, 20}, 3))
                .isEqualTo(InterleavedTimer.Outcome.FIRST_FASTER);
        assertThat(InterleavedTimer.outcome(new double[] {20, 20, 20}, a, 3))
                .isEqualTo(InterleavedTimer.Outcome.SECOND_FASTER);
        assertThat(InterleavedTimer.outcome(a, new double[] {20, 20, 20}, 2)).isEqualTo(InterleavedTimer.Outcome.OPEN);
        // one stalled run of the faster operation in a round: no gross call, the sign test decides
        assertThat(InterleavedTimer.outcome(new double[] {10, 45, 10}, new double[] {20, 20, 20}, 3))
                .isEqualTo(InterleavedTimer.Outcome.OPEN);
    }

    @Test
    void aVastDifferenceIsSettledInTwoRounds() {
        // 3 ms against 13 (4.3x) and 10 (3.3x): the first loser stops after two rounds, the second after three
        Race r = race(List.of(new int[] {0, 1, 2}), new double[] {13}, new double[] {3}, new double[] {10});
        assertThat(r.ms()).containsExactly(13.0, 3.0, 10.0);
        assertThat(new int[] {r.ops()[0].runs, r.ops()[1].runs, r.ops()[2].runs}).containsExactly(3, 4, 4);
        double[] fast = {10, 10, 10};
        assertThat(InterleavedTimer.outcome(fast, new double[] {40, 40}, 2)).isEqualTo(InterleavedTimer.Outcome.FIRST_FASTER);
        assertThat(InterleavedTimer.outcome(new double[] {40, 40}, fast, 2))
                .isEqualTo(InterleavedTimer.Outcome.SECOND_FASTER);
        // one round is not enough, nor two where one of them is under 4x (a stall), nor 4x one way and back
        assertThat(InterleavedTimer.outcome(fast, new double[] {400}, 1)).isEqualTo(InterleavedTimer.Outcome.OPEN);
        assertThat(InterleavedTimer.outcome(fast, new double[] {400, 39}, 2)).isEqualTo(InterleavedTimer.Outcome.OPEN);
        assertThat(InterleavedTimer.outcome(new double[] {10, 40}, new double[] {40, 10}, 2))
                .isEqualTo(InterleavedTimer.Outcome.OPEN);
    }

    @Test
    void aWarmUpOfItsOwnReplacesTheRunOfEachOperation() {
        long[] clock = {0};
        Counted slow = new Counted(clock, new double[] {12});
        Counted fast = new Counted(clock, new double[] {7});
        int[] warmUps = {0};
        new InterleavedTimer(250, 64, () -> clock[0]).warmingUpWith(() -> warmUps[0]++)
                .medians(List.<Runnable>of(slow, fast), List.of(new int[] {0, 1}));
        assertThat(warmUps[0]).isEqualTo(1);
        assertThat(new int[] {slow.runs, fast.runs}).as("7 timed rounds, no warm-up run").containsExactly(7, 7);
    }

    @Test
    void aCloseCallStopsAfterItsRoundsUnlessTheBudgetComesFirst() {
        Race r = race(List.of(new int[] {0, 1}), CLOSE_A, CLOSE_B);
        // warm-up and twelve rounds, not the 25 that 250 ms of 10 ms runs would allow
        assertThat(new int[] {r.ops()[0].runs, r.ops()[1].runs})
                .containsExactly(1 + InterleavedTimer.RACE_ROUNDS, 1 + InterleavedTimer.RACE_ROUNDS);
        assertThat(r.ms()[0]).isEqualTo(10.0);
        assertThat(r.ms()[1]).isEqualTo(10.4);
        // runs of 30 ms: the budget (250 ms) stops the close call first, after nine rounds
        Race slow = race(List.of(new int[] {0, 1}), times(CLOSE_A, 3), times(CLOSE_B, 3));
        assertThat(slow.ops()[0].runs).isEqualTo(1 + 9);
        // an operation in no decision is not held to the rounds of a race: it takes its few runs as before
        Race lone = race(List.of(new int[] {0, 1}), CLOSE_A, CLOSE_B, new double[] {5});
        assertThat(lone.ops()[2].runs).isEqualTo(1 + InterleavedTimer.LONE_RUNS);
        // without decisions every operation runs to its budget or run limit, as before
        long[] clock = {0};
        Counted a = new Counted(clock, CLOSE_A);
        Counted b = new Counted(clock, CLOSE_B);
        new InterleavedTimer(250, 64, () -> clock[0]).medians(List.<Runnable>of(a, b));
        assertThat(a.runs).isEqualTo(1 + 25);
    }

    private static double[] times(double[] costs, double factor) {
        return java.util.Arrays.stream(costs).map(c -> c * factor).toArray();
    }

    @Test
    void aSteadyTieIsSettledToo() {
        Race r = race(List.of(new int[] {0, 1}), new double[] {10}, new double[] {10.2});
        assertThat(new int[] {r.ops()[0].runs, r.ops()[1].runs}).containsExactly(8, 8);
    }

    @Test
    void aCandidateBeatenByAnotherStopsWhileTheCloseOnesRunOn() {
        Race r = race(List.of(new int[] {0, 1, 2}), new double[] {20}, CLOSE_A, CLOSE_B);
        assertThat(r.ops()[0].runs).isEqualTo(8);
        assertThat(r.ops()[1].runs).isEqualTo(1 + InterleavedTimer.RACE_ROUNDS);
    }

    @Test
    void aPairDecisionKeepsBothOfItsCandidatesRunningEvenWhenBothLoseTheLargerOne() {
        // 0 and 1 lose the group to 2, but whether 1 is clearly faster than 0 is a choice of its own (a close one)
        Race r = race(List.of(new int[] {0, 1, 2}, new int[] {0, 1}), CLOSE_A, CLOSE_B, new double[] {6});
        assertThat(r.ops()[0].runs).isEqualTo(1 + InterleavedTimer.RACE_ROUNDS);
        assertThat(r.ops()[2].runs).as("settled against each other one").isEqualTo(8);
    }

    @Test
    void anOperationInNoDecisionTakesAFewRuns() {
        Race r = race(List.of(new int[] {1, 2}), new double[] {5}, new double[] {2}, new double[] {8});
        assertThat(r.ops()[0].runs).isEqualTo(1 + InterleavedTimer.LONE_RUNS);
        Runnable a = r.ops()[1];
        assertThatThrownBy(() -> new InterleavedTimer(250, 64).medians(List.of(a), List.<int[]>of(new int[] {1})))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRaceStillPicksTheFasterOneOnADriftingMachine() {
        for (double drift : new double[] {-0.5, 0.5, 2.0}) {
            DriftingMachine m = new DriftingMachine(drift);
            double[] ms = new InterleavedTimer(250, 64, () -> m.now).medians(List.of(m.op(12), m.op(10)),
                    List.of(new int[] {0, 1}));
            assertThat(ms[1] * WeightTypes.MIN_GAIN).as("drift %s", drift).isLessThan(ms[0]);
        }
    }

    @Test
    void theSignTestsCounts() {
        assertThat(InterleavedTimer.significant(7, 7)).isTrue();
        assertThat(InterleavedTimer.significant(6, 7)).isFalse();
        assertThat(InterleavedTimer.significant(9, 10)).isFalse();
        assertThat(InterleavedTimer.significant(10, 11)).isTrue();
        assertThat(InterleavedTimer.significant(40, 64)).isFalse();
        assertThat(InterleavedTimer.significant(45, 64)).isTrue();
        assertThat(InterleavedTimer.significant(0, 0)).isFalse();
        double[] a = {10, 10, 10, 10, 10, 10, 10};
        double[] b = {12, 12, 12, 12, 12, 12, 12};
        assertThat(InterleavedTimer.outcome(a, b, 7)).isEqualTo(InterleavedTimer.Outcome.FIRST_FASTER);
        assertThat(InterleavedTimer.outcome(b, a, 7)).isEqualTo(InterleavedTimer.Outcome.SECOND_FASTER);
        assertThat(InterleavedTimer.outcome(a, b, 6)).isEqualTo(InterleavedTimer.Outcome.OPEN);
        assertThat(InterleavedTimer.outcome(a, a, 7)).isEqualTo(InterleavedTimer.Outcome.NEITHER);
    }

    @Test
    void rejectsNonsenseSettings() {
        assertThatThrownBy(() -> new InterleavedTimer(0, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new InterleavedTimer(10, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
