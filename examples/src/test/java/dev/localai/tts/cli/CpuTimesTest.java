package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CpuTimesTest {
    @Test
    void parsesTheTotalLineWithGuestTimeNotCountedTwice() {
        CpuTimes t = CpuTimes.parse("cpu  806217 876 61777 4694875 2450 0 3865 19561 100 7");
        assertThat(t.busy()).isEqualTo(806217L + 876 + 61777 + 0 + 3865);
        assertThat(t.idle()).isEqualTo(4694875L + 2450);
        assertThat(t.steal()).isEqualTo(19561L);
    }

    @Test
    void oldKernelsWithoutStealColumnsReadAsNoSteal() {
        CpuTimes t = CpuTimes.parse("cpu 10 0 5 100");
        assertThat(t.steal()).isZero();
        assertThat(t.idle()).isEqualTo(100);
    }

    @Test
    void stealPercentIsTheStolenShareOfAllTicksBetweenTwoReadings() {
        CpuTimes a = CpuTimes.parse("cpu  806217 876 61777 4694875 2450 0 3865 19561 0 0");
        // 5 s on 2 CPUs at 100 ticks/s: 406 busy, 406 idle, 188 stolen
        CpuTimes b = CpuTimes.parse("cpu  806623 876 61777 4695281 2450 0 3865 19749 0 0");
        assertThat(b.stealPercentSince(a)).isCloseTo(18.8, within(1e-9));
        assertThat(a.stealPercentSince(a)).isNaN();
    }

    @Test
    void rejectsAPerCpuLine() {
        assertThatThrownBy(() -> CpuTimes.parse("cpu0 1 2 3 4 5 6 7 8"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsThisMachineWhereProcStatExists() {
        CpuTimes now = CpuTimes.now();
        if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/stat"))) {
            assertThat(now).isNotNull();
            assertThat(now.busy() + now.idle()).isPositive();
        } else {
            assertThat(now).isNull();
        }
    }
}
