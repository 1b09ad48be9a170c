package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The machine-load figures the weight-type probe judges its own measurement by. */
class CpuLoadTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void busyTimeIsUserNiceSystemIrqSoftirqAndStealOfTheFirstLine() {
        String stat = "cpu  100 20 30 5000 70 8 9 10 0 0\ncpu0 50 10 15 2500 35 4 4 5 0 0\nintr 1 2 3\n";
        // 100 + 20 + 30 + 8 + 9 + 10 ticks: idle (5000) and iowait (70) are not busy
        assertThat(CpuLoad.busySeconds(stat)).isCloseTo(1.77, within(1e-9));
        assertThat(CpuLoad.busySeconds("cpu0 1 2 3 4 5 6 7 8\n")).isNaN();
        assertThat(CpuLoad.busySeconds("cpu  1 2 x 4 5 6 7 8\n")).isNaN();
        assertThat(CpuLoad.busySeconds("cpu  1 2 3\n")).isNaN();
        assertThat(CpuLoad.busySeconds("")).isNaN();
    }

    @Test
    void othersShareIsTheMachinesBusyTimeLessOursOverAllCpus() {
        CpuLoad.Sample before = new CpuLoad.Sample(0, 100.0, 10.0, 2);
        // 2 s on 2 CPUs: the machine busy 3 s, this process 1.9 s of it: others 1.1 s of 4
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(2 * SECOND, 103.0, 11.9, 2)))
                .isCloseTo(0.275, within(1e-9));
        // a quiet machine: only this process
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(2 * SECOND, 101.9, 11.9, 2))).isCloseTo(0, within(1e-12));
        // tick rounding may put the machine below this process: never negative, never above 1
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(2 * SECOND, 101.8, 11.9, 2))).isZero();
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(2 * SECOND, 120.0, 10.0, 2))).isEqualTo(1.0);
    }

    @Test
    void whatCannotBeJudgedIsNaN() {
        CpuLoad.Sample before = new CpuLoad.Sample(0, 100.0, 10.0, 2);
        // shorter than the ticks can resolve
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(SECOND / 100, 101.0, 10.0, 2))).isNaN();
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(2 * SECOND, Double.NaN, 11.0, 2))).isNaN();
        assertThat(CpuLoad.othersShare(before, new CpuLoad.Sample(2 * SECOND, 103.0, Double.NaN, 2))).isNaN();
    }

    @Test
    void aReadingOnThisMachineHasItsFigures() {
        CpuLoad.Sample s = CpuLoad.sample();
        assertThat(s.cpus()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(s.ownCpuSeconds()).isPositive();
        if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/stat"))) {
            assertThat(s.machineBusySeconds()).isPositive();
        }
    }
}
