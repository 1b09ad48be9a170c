package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The intra-op thread policy on injected timings (no LibTorch calls). */
class IntraOpThreadsTest {
    private static Supplier<WeightTypes.Probe> probe(Map<Integer, Double> threadMs) {
        Map<String, WeightTypes.Figure> f = new LinkedHashMap<>();
        f.put("fp32", new WeightTypes.Figure(10, 8, 0));
        return () -> new WeightTypes.Probe("cpu", f, threadMs);
    }

    private static Supplier<WeightTypes.Probe> never() {
        return () -> {
            throw new AssertionError("the probe must not run");
        };
    }

    @Test
    void aConfiguredCountWinsWithoutProbing() {
        assertThat(IntraOpThreads.choose(3, false, false, 1, 2, never())).isEqualTo(3);
        assertThat(IntraOpThreads.choose(3, true, true, 1, 2, never())).isEqualTo(3);
    }

    @Test
    void theGpuAndTheEnvironmentKeepLibTorchsDefaultWithoutProbing() {
        assertThat(IntraOpThreads.choose(0, true, false, 1, 2, never())).isZero();
        assertThat(IntraOpThreads.choose(0, false, true, 1, 2, never())).isZero();
    }

    @Test
    void noProbeWhenLibTorchsDefaultIsAlreadyTheLogicalCoreCount() {
        assertThat(IntraOpThreads.choose(0, false, false, 2, 2, never())).isZero();
    }

    @Test
    void aVmWhoseTwoVcpusLookLikeSiblingsGetsTwoThreadsWhenTheyAreFaster() {
        // LibTorch's default is 1 there; HiFT-like work measured about 2x faster on two
        assertThat(IntraOpThreads.choose(0, false, false, 1, 2, probe(Map.of(1, 30.0, 2, 16.0)))).isEqualTo(2);
    }

    @Test
    void realSiblingsThatGainNothingKeepTheDefault() {
        assertThat(IntraOpThreads.choose(0, false, false, 1, 2, probe(Map.of(1, 30.0, 2, 29.0)))).isZero();
        assertThat(IntraOpThreads.choose(0, false, false, 1, 2, probe(Map.of(1, 30.0, 2, 45.0)))).isZero();
    }

    @Test
    void aDesktopWithSmtKeepsItsPhysicalCoreCountUnlessTheLogicalOnesAreFaster() {
        assertThat(IntraOpThreads.choose(0, false, false, 8, 16, probe(Map.of(8, 10.0, 16, 10.2)))).isZero();
        assertThat(IntraOpThreads.choose(0, false, false, 8, 16, probe(Map.of(8, 10.0, 16, 8.0)))).isEqualTo(16);
    }

    @Test
    void missingOrBrokenFiguresKeepTheDefault() {
        assertThat(IntraOpThreads.fromTimings(Map.of(), 1)).isZero();
        assertThat(IntraOpThreads.fromTimings(Map.of(1, 30.0), 1)).isZero();
        assertThat(IntraOpThreads.fromTimings(Map.of(2, 10.0, 4, 5.0), 1)).as("the default not measured").isZero();
        assertThat(IntraOpThreads.fromTimings(Map.of(1, Double.NaN, 2, 5.0), 1)).isZero();
        assertThat(IntraOpThreads.fromTimings(Map.of(1, 30.0, 2, Double.NaN), 1)).isEqualTo(1);
        assertThat(IntraOpThreads.fromTimings(Map.of(1, 30.0, 2, 0.0), 1)).isEqualTo(1);
    }

    @Test
    void theCandidatesAreTheDefaultAndTheLogicalCoresUnlessTheEnvironmentChose() {
        assertThat(IntraOpThreads.candidates(1, 2, false)).containsExactly(1, 2);
        assertThat(IntraOpThreads.candidates(8, 16, false)).containsExactly(8, 16);
        assertThat(IntraOpThreads.candidates(2, 2, false)).containsExactly(2);
        assertThat(IntraOpThreads.candidates(1, 2, true)).containsExactly(1);
        assertThat(IntraOpThreads.candidates(0, 0, false)).containsExactly(1);
    }

    @Test
    void aConfiguredCountIsZeroOrAtMostTheCores() {
        for (int cores : new int[] {1, 2, 16}) {
            for (int t = 0; t <= cores; t++) {
                assertThat(IntraOpThreads.requireValid(t, cores)).isEqualTo(t);
            }
            int over = cores + 1;
            assertThatThrownBy(() -> IntraOpThreads.requireValid(over, cores))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("threads must be 0 (automatic) or from 1 to " + cores
                            + ", the CPU cores this process may use: " + over);
            assertThatThrownBy(() -> IntraOpThreads.requireValid(999, cores))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageEndingWith(": 999");
            assertThatThrownBy(() -> IntraOpThreads.requireValid(-1, cores))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageEndingWith(": -1");
        }
        // a machine that reports no cores still runs one thread
        assertThat(IntraOpThreads.requireValid(1, 0)).isEqualTo(1);
        assertThatThrownBy(() -> IntraOpThreads.requireValid(2, 0)).isInstanceOf(IllegalArgumentException.class);
        // this process's own cores
        int n = Runtime.getRuntime().availableProcessors();
        assertThat(IntraOpThreads.requireValid(n)).isEqualTo(n);
        assertThatThrownBy(() -> IntraOpThreads.requireValid(n + 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEnvironmentCountAboveTheCoresIsWarnedAbout() {
        assertThat(IntraOpThreads.environmentWarning(true, 999, 2))
                .startsWith("OMP_NUM_THREADS/MKL_NUM_THREADS give LibTorch 999 threads on 2 CPU cores")
                .endsWith("set at most 2");
        assertThat(IntraOpThreads.environmentWarning(true, 2, 2)).isNull();
        assertThat(IntraOpThreads.environmentWarning(true, 1, 2)).isNull();
        // LibTorch's own default (its count of physical cores) may exceed a container's limit: the probe handles it
        assertThat(IntraOpThreads.environmentWarning(false, 16, 2)).isNull();
    }
}
