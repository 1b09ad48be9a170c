package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The ordering and failure rules of the vocoding pipeline a request's text chunks share. */
class FlushPipelineTest {
    @Test
    void workRunsInOrderOnTheHelperAndThenDoesNotWait() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        try (FlushPipeline p = new FlushPipeline(true, 0)) {
            assertThat(p.untouched()).isTrue();
            p.submit(() -> {
                release.await(10, TimeUnit.SECONDS);
                log.add("job1 " + Thread.currentThread().getName());
                return 10L;
            }, false);
            assertThat(p.untouched()).isFalse();
            // queued behind job 1 while it is still blocked: then() returns at once
            p.then(() -> log.add("seam"));
            assertThat(log).isEmpty();
            release.countDown();
            p.submit(() -> {
                log.add("job2 " + Thread.currentThread().getName());
                return 5L;
            }, true);
            assertThat(p.finish()).isEqualTo(15L);
        }
        assertThat(log).containsExactly("job1 tts-stream-flush", "seam", "job2 " + Thread.currentThread().getName());
    }

    @Test
    void aFailedJobSkipsTheWorkQueuedBehindItAndSurfacesAtTheNextSubmit() {
        List<String> log = new CopyOnWriteArrayList<>();
        try (FlushPipeline p = new FlushPipeline(true, 0)) {
            p.submit(() -> {
                throw new IllegalStateException("vocoder failed");
            }, false);
            p.then(() -> log.add("seam after the failure"));
            assertThatThrownBy(() -> p.submit(() -> {
                log.add("next job");
                return 1L;
            }, false)).hasMessage("vocoder failed");
            assertThat(log).isEmpty();
        }
    }

    @Test
    void closeWaitsForRunningWorkAndSwallowsItsFailure() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        boolean[] finished = {false};
        FlushPipeline p = new FlushPipeline(true, 0);
        p.submit(() -> {
            started.countDown();
            Thread.sleep(200);
            finished[0] = true;
            throw new IllegalStateException("late failure");
        }, false);
        started.await();
        p.close();
        assertThat(finished[0]).as("close waited for the job that uses its owner's tensors").isTrue();
    }

    @Test
    void disabledEverythingRunsInLineInOrder() {
        List<String> log = new CopyOnWriteArrayList<>();
        try (FlushPipeline p = new FlushPipeline(false, 0)) {
            p.submit(() -> {
                log.add("job " + Thread.currentThread().getName());
                return 3L;
            }, false);
            p.then(() -> log.add("seam"));
            assertThat(p.finish()).isEqualTo(3L);
        }
        assertThat(log).containsExactly("job " + Thread.currentThread().getName(), "seam");
    }
}
