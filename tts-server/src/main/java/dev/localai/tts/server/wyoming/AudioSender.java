package dev.localai.tts.server.wyoming;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.core.audio.encode.Pcm16;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.http.Hangups;
import dev.localai.tts.server.metrics.Metrics;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Speaks one text as {@code audio-start}, {@code audio-chunk}s and {@code audio-stop}: the engine's stream is sent
 * as it arrives, each engine chunk cut into audio-chunk events of at most {@value #SAMPLES_PER_EVENT} samples of
 * 16-bit little-endian mono PCM at 24 kHz (the size wyoming-piper sends).
 */
final class AudioSender {
    static final int RATE = AudioClip.SAMPLE_RATE;
    static final int WIDTH = 2;
    static final int CHANNELS = 1;
    static final int SAMPLES_PER_EVENT = 1024;

    private final Metrics metrics;

    AudioSender(Metrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Synthesises {@code request} and sends it. Refusals the engine makes before any audio (busy, unknown voice)
     * are {@link WyomingException}s; a failure after audio-start is too, and the caller closes the connection.
     *
     * @param hangups watches the connection: a client that closes it cancels the synthesis at once, not at the next
     *                write ({@link Hangups})
     * @throws IOException when the client is gone
     */
    void speak(SpeechSynthesizer engine, SpeechRequest request, EventWriter out,
               Function<Runnable, Hangups.Watch> hangups) throws IOException {
        long t0 = System.nanoTime();
        SpeechStream stream;
        try {
            stream = engine.stream(request);
        } catch (EngineException e) {
            throw fromEngine(e);
        }
        long firstAt = 0;
        AtomicBoolean hungUp = new AtomicBoolean();
        try (stream; Hangups.Watch w = hangups.apply(() -> {
            hungUp.set(true);
            stream.close();
        })) {
            out.send(WyomingEvent.of(WyomingEvent.AUDIO_START, format()));
            while (stream.hasNext()) {
                AudioChunk c = stream.next();
                float[] s = c.samples();
                for (int off = 0; off < s.length; off += SAMPLES_PER_EVENT) {
                    int n = Math.min(SAMPLES_PER_EVENT, s.length - off);
                    out.write(new WyomingEvent(WyomingEvent.AUDIO_CHUNK, format(), Pcm16.toBytes(s, off, n)));
                }
                out.flush();
                if (firstAt == 0 && s.length > 0) {
                    firstAt = System.nanoTime();
                }
            }
            w.close(); // the synthesis is over: a client that closes once it has the audio is no departure
            if (hungUp.get()) {
                throw new IOException("the client closed its connection; the synthesis was cancelled");
            }
            out.send(WyomingEvent.of(WyomingEvent.AUDIO_STOP));
        } catch (CancellationException e) {
            // closed under us: the client stalled or the server is stopping
            throw new IOException("the synthesis was cancelled", e);
        } catch (EngineException e) {
            throw fromEngine(e);
        }
        SynthesisStats stats = stream.stats();
        double audio = stats.audioSeconds();
        double gen = (System.nanoTime() - t0) / 1e9;
        metrics.synthesis("wyoming", "pcm", firstAt == 0 ? gen : (firstAt - t0) / 1e9, audio > 0 ? gen / audio : 0,
                audio, stats.cheaperAudioSeconds());
    }

    private static ObjectNode format() {
        ObjectNode d = WyomingEvent.object();
        d.put("rate", RATE);
        d.put("width", WIDTH);
        d.put("channels", CHANNELS);
        return d;
    }

    /** The engine's refusal as an error event, with the codes and messages of the HTTP API. */
    static WyomingException fromEngine(EngineException e) {
        ApiException a = ErrorResponses.fromEngine(e, "voice", false);
        String code = a.error().code() != null ? a.error().code() : e.kind().name().toLowerCase(java.util.Locale.ROOT);
        return new WyomingException(code, a.error().message());
    }
}
