package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Test;

class CompetingLoadTest {
    @Test
    void noLoadWithoutASpec() {
        assertThat(CompetingLoad.parse(null)).isNull();
        assertThat(CompetingLoad.parse("  ")).isNull();
    }

    @Test
    void refusesWhatIsNotABurstShorterThanItsPeriod() {
        for (String bad : new String[] {"5", "5/20/1", "a/20", "0/20", "-1/20", "20/20", "30/20", "5/1001", "NaN/20"}) {
            assertThatThrownBy(() -> CompetingLoad.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
        }
    }

    /** The load takes about its share of a core while it runs (5 of every 20 ms: a quarter), and ends on close. */
    @Test
    void burnsAboutItsShareOfACoreUntilClosed() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double wallMs;
        double busyMs;
        try (CompetingLoad.Running load = CompetingLoad.parse("5/20").start()) {
            assertThat(load).isNotNull();
            Thread t = Thread.getAllStackTraces().keySet().stream()
                    .filter(x -> x.getName().equals("competing-load")).findFirst().orElseThrow();
            assertThat(t.isDaemon()).isTrue();
            long start = System.nanoTime();
            long before = mx.getThreadCpuTime(t.threadId());
            Thread.sleep(400);
            busyMs = (mx.getThreadCpuTime(t.threadId()) - before) / 1e6;
            wallMs = (System.nanoTime() - start) / 1e6;
        }
        // a quarter of the wall time, give or take a descheduled burst or two on a busy machine; never a whole core
        assertThat(busyMs).isBetween(wallMs * 0.1, wallMs * 0.6);
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(x -> x.getName().equals("competing-load"));
    }
}
