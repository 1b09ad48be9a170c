package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.nn.ThreadPools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * A synthesis worker hands back its OpenMP workers after each request: libgomp's workers carry the name of the thread
 * that started them, so after a request that computed in parallel only the worker itself is left.
 */
class WorkerPoolTest {
    @Test
    void aWorkerKeepsNoOpenMpThreadsBetweenRequests() throws Exception {
        assumeTrue(ThreadPools.supported(), "native kernels not loaded");
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux /proc needed");
        String name = "wp-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36); // under 15 characters
        // a queue of one: the next request waits there while the worker is still in afterExecute (handing back its
        // OpenMP pool) after the previous one's future completed; with no queue it would be rejected then
        WorkerPool pool = new WorkerPool(1, 1, name);
        int before = torch.get_num_threads();
        torch.set_num_threads(2);
        try {
            for (int request = 0; request < 3; request++) {
                int[] during = new int[1];
                pool.submit(() -> {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor x = torch.ones(1 << 22);
                        x.mul_(new Scalar(3.0)); // parallel: the worker's OpenMP pool starts
                        during[0] = named(name);
                    }
                }).get(30, TimeUnit.SECONDS);
                assertThat(during[0]).as("request %d: the worker and its OpenMP thread", request).isEqualTo(2);
                assertThat(awaitNamed(name, 1)).as("request %d: after it", request).isEqualTo(1);
            }
        } finally {
            torch.set_num_threads(before);
            pool.shutdown(10);
        }
    }

    private static int awaitNamed(String name, int expected) throws InterruptedException {
        int n = named(name);
        for (int i = 0; i < 400 && n != expected; i++) { // afterExecute runs just after the future completes
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
