package dev.localai.tts.core.engine.api;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link SpeechStream} as a {@link Flow.Publisher} (reactive streams): each subscription starts its own synthesis
 * of the request, chunks are delivered only as demanded ({@code request(n)}), cancelling closes the stream (which
 * cancels the generation), and errors (busy, unknown voice, ...) arrive as {@code onError}. Signals are delivered
 * one at a time from {@code executor} (a virtual-thread executor suits, as the stream's {@code next()} blocks).
 *
 * <pre>{@code
 * Flow.Publisher<AudioChunk> p = new SpeechPublisher(tts, SpeechRequest.of("Hello."),
 *         Executors.newVirtualThreadPerTaskExecutor());
 * }</pre>
 */
public final class SpeechPublisher implements Flow.Publisher<AudioChunk> {
    private final SpeechSynthesizer synthesizer;
    private final SpeechRequest request;
    private final Executor executor;

    public SpeechPublisher(SpeechSynthesizer synthesizer, SpeechRequest request, Executor executor) {
        this.synthesizer = Objects.requireNonNull(synthesizer, "synthesizer");
        this.request = Objects.requireNonNull(request, "request");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    @Override
    public void subscribe(Flow.Subscriber<? super AudioChunk> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        Subscription s = new Subscription(subscriber);
        subscriber.onSubscribe(s);
    }

    private final class Subscription implements Flow.Subscription {
        private final Flow.Subscriber<? super AudioChunk> subscriber;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private volatile SpeechStream stream;
        private boolean terminated;

        Subscription(Flow.Subscriber<? super AudioChunk> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                cancel();
                executor.execute(() -> subscriber.onError(
                        new IllegalArgumentException("request(" + n + "): demand must be positive (rule 3.9)")));
                return;
            }
            demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            drainLater();
        }

        @Override
        public void cancel() {
            if (cancelled.compareAndSet(false, true)) {
                SpeechStream s = stream;
                if (s != null) {
                    s.close();
                }
            }
        }

        private void drainLater() {
            if (wip.getAndIncrement() == 0) {
                executor.execute(this::drain);
            }
        }

        /** Runs on the executor, never concurrently with itself. */
        private void drain() {
            int missed = 1;
            do {
                try {
                    while (!terminated && !cancelled.get() && demand.get() > 0) {
                        if (stream == null) {
                            stream = synthesizer.stream(request);
                            if (cancelled.get()) {
                                stream.close();
                                return;
                            }
                        }
                        if (!stream.hasNext()) {
                            terminated = true;
                            stream.close();
                            subscriber.onComplete();
                            break;
                        }
                        AudioChunk c = stream.next();
                        demand.decrementAndGet();
                        subscriber.onNext(c);
                    }
                } catch (RuntimeException e) {
                    if (!terminated) {
                        terminated = true;
                        if (stream != null) {
                            stream.close();
                        }
                        if (!cancelled.get()) {
                            subscriber.onError(e);
                        }
                    }
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }
    }
}
