package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.RepeatedTest;

/**
 * {@link ThreadPools#release()} really ends the calling thread's OpenMP workers: libgomp names none of its threads, so
 * a worker carries the name of the thread that started it (Linux copies it at thread creation), and the process's
 * threads of that name can be counted in {@code /proc/self/task}.
 */
class ThreadPoolsTest {
    /** A parallel LibTorch operation on a fresh thread starts its pool; release ends it; the next operation works. */
    @RepeatedTest(3)
    void aThreadHandsBackItsOpenMpWorkersAndComputesAfterwards() throws Exception {
        assumeTrue(ThreadPools.supported(), "native kernels not loaded");
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux /proc needed");
        String name = "tp-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36); // under 15 characters
        int before = torch.get_num_threads();
        AtomicReference<Object> result = new AtomicReference<>();
        torch.set_num_threads(2);
        try {
            Thread t = new Thread(() -> {
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = torch.ones(1 << 22);
                    x.mul_(new org.bytedeco.pytorch.Scalar(3.0)); // 4M values: split over the two threads
                    int withPool = named(name);
                    boolean released = ThreadPools.release();
                    int after = awaitNamed(name, 1);
                    double sum = x.mul(new org.bytedeco.pytorch.Scalar(2.0)).sum().item_double();
                    result.set(new int[] {withPool, released ? 1 : 0, after, (int) (sum / (1 << 22))});
                } catch (Throwable e) {
                    result.set(e);
                }
            }, name);
            t.start();
            t.join();
        } finally {
            torch.set_num_threads(before);
        }
        assertThat(result.get()).isInstanceOf(int[].class);
        int[] r = (int[]) result.get();
        assertThat(r[0]).as("the thread and its OpenMP worker").isEqualTo(2);
        assertThat(r[1]).as("released").isEqualTo(1);
        assertThat(r[2]).as("the worker has ended").isEqualTo(1);
        assertThat(r[3]).as("computes after the release").isEqualTo(6);
    }

    /** Releasing a thread that never computed, or twice, is harmless. */
    @RepeatedTest(2)
    void releasingWithoutAPoolIsHarmless() {
        assumeTrue(ThreadPools.supported(), "native kernels not loaded");
        assertThat(ThreadPools.release()).isTrue();
        assertThat(ThreadPools.release()).isTrue();
    }

    private static int awaitNamed(String name, int expected) throws InterruptedException {
        int n = named(name);
        for (int i = 0; i < 200 && n != expected; i++) { // an ended thread can linger in /proc for a moment
            Thread.sleep(5);
            n = named(name);
        }
        return n;
    }

    private static int named(String name) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return (int) tasks.filter(p -> {
                try {
                    return Files.readString(p.resolve("comm")).trim().equals(name);
                } catch (IOException e) {
                    return false; // ended meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
