package dev.localai.tts.server;

import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineHealth;
import dev.localai.tts.core.engine.api.ModelInfo;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.core.engine.api.VoiceInfo;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The real engine with a gate the test controls: while armed, the next stream (or whole synthesis, which joins a
 * stream) delivers its first chunk and then holds the rest until {@link #open()}. The audio is the engine's own;
 * only its timing is held, so a test can keep a request in flight for as long as it needs, and see when the server
 * gave it up ({@link #awaitClosed}).
 */
final class GatedSynthesizer implements SpeechSynthesizer {
    private final SpeechSynthesizer engine;
    private final AtomicReference<CountDownLatch> armed = new AtomicReference<>();
    private final AtomicReference<CountDownLatch> closed = new AtomicReference<>(new CountDownLatch(1));
    private volatile int holdAfter = 1;

    GatedSynthesizer(SpeechSynthesizer engine) {
        this.engine = engine;
    }

    /** Holds the next stream after its first chunk. */
    void arm() {
        arm(1);
    }

    /** Holds the next stream after {@code chunks} chunks (0: before its first). */
    void arm(int chunks) {
        holdAfter = chunks;
        closed.set(new CountDownLatch(1));
        armed.set(new CountDownLatch(1));
    }

    /** Whether the stream gated since the last {@link #arm()} was closed (its generation cancelled) within {@code timeout}. */
    boolean awaitClosed(java.time.Duration timeout) throws InterruptedException {
        return closed.get().await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Lets the held stream go on. */
    void open() {
        CountDownLatch l = armed.getAndSet(null);
        if (l != null) {
            l.countDown();
        }
    }

    @Override
    public SpeechStream stream(SpeechRequest request) {
        SpeechStream s = engine.stream(request);
        CountDownLatch gate = armed.get();
        if (gate == null) {
            return s;
        }
        CountDownLatch done = closed.get();
        int hold = holdAfter;
        return new SpeechStream() {
            private int delivered;

            @Override
            public boolean hasNext() {
                if (delivered == hold) {
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.util.concurrent.CancellationException("interrupted");
                    }
                }
                return s.hasNext();
            }

            @Override
            public AudioChunk next() {
                delivered++;
                return s.next();
            }

            @Override
            public SynthesisStats stats() {
                return s.stats();
            }

            @Override
            public void close() {
                s.close();
                done.countDown();
            }
        };
    }

    @Override
    public AudioClip synthesize(SpeechRequest request) {
        // armed: the whole synthesis joins the gated stream, so it is held (and interruptible) as a stream is
        return armed.get() == null ? engine.synthesize(request) : synthesize(request, p -> { });
    }

    @Override
    public List<VoiceInfo> voices() {
        return engine.voices();
    }

    @Override
    public VoiceInfo addVoice(String name, byte[] audio) {
        return engine.addVoice(name, audio);
    }

    @Override
    public boolean deleteVoice(String id) {
        return engine.deleteVoice(id);
    }

    @Override
    public EngineHealth health() {
        return engine.health();
    }

    @Override
    public ModelInfo modelInfo() {
        return engine.modelInfo();
    }

    @Override
    public void close() {
        open();
        engine.close();
    }
}
