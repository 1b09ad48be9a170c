package dev.localai.tts.core.runtime;

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

    @Test
    void rejectsNonsenseSettings() {
        assertThatThrownBy(() -> new InterleavedTimer(0, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new InterleavedTimer(10, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
