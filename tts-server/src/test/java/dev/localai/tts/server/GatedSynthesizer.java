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
 * The real engine with a gate the test controls: while armed, the next stream delivers its first chunk and then
 * holds the rest until {@link #open()}. The audio is the engine's own; only its timing is held, so a test can keep a
 * request in flight for as long as it needs.
 */
final class GatedSynthesizer implements SpeechSynthesizer {
    private final SpeechSynthesizer engine;
    private final AtomicReference<CountDownLatch> armed = new AtomicReference<>();

    GatedSynthesizer(SpeechSynthesizer engine) {
        this.engine = engine;
    }

    /** Holds the next stream after its first chunk. */
    void arm() {
        armed.set(new CountDownLatch(1));
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
        return new SpeechStream() {
            private int delivered;

            @Override
            public boolean hasNext() {
                if (delivered == 1) {
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
            }
        };
    }

    @Override
    public AudioClip synthesize(SpeechRequest request) {
        return engine.synthesize(request);
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
