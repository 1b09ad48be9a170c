package dev.localai.tts.server.speech;

import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.Json;
import dev.localai.tts.api.SpeechAudioDeltaEvent;
import dev.localai.tts.api.SpeechAudioDoneEvent;
import dev.localai.tts.api.Usage;
import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoder;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.ops.Metrics;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes synthesized speech to the client in one of three ways: a whole file (with {@code Content-Length} and the
 * timing headers), a chunked audio stream (bytes leave as the encoder releases them), or server-sent events
 * ({@code speech.audio.delta} with base64 audio, then one {@code speech.audio.done} with usage). In both streamed
 * modes the encoder runs continuously, so the concatenated bytes are one valid file, and a client that goes away
 * closes the {@link SpeechStream}, which cancels the generation.
 */
public final class AudioResponder {
    private static final Logger LOG = Logger.getLogger(AudioResponder.class.getName());
    private static final int SR = AudioClip.SAMPLE_RATE;
    private static final String TRAILERS = "X-Audio-Duration, X-Generation-Time, X-Real-Time-Factor, "
            + "X-Time-To-First-Audio, X-Cheaper-Audio-Seconds";

    private final Metrics metrics;
    private final StallGuard stalls;

    /**
     * @param metrics where syntheses, errors and disconnects are counted
     * @param stalls  cancels the generation of clients that stop reading
     */
    public AudioResponder(Metrics metrics, StallGuard stalls) {
        this.metrics = metrics;
        this.stalls = stalls;
    }

    /** Sends a finished clip as a complete file. */
    public void sendFile(ServerResponse res, AudioClip clip, AudioFormat format, long startNanos) {
        byte[] bytes = AudioEncoders.encode(format, clip.samples(), clip.sampleRate());
        SynthesisStats s = clip.stats();
        double gen = (System.nanoTime() - startNanos) / 1e9;
        double dur = clip.durationSeconds();
        res.header(HeaderNames.CONTENT_TYPE, format.contentType());
        timingHeaders(res, dur, gen);
        res.header("X-Time-To-First-Audio", fmt(gen));
        res.header("X-Input-Tokens", Long.toString(s.inputTokens()));
        res.header("X-Output-Tokens", Long.toString(s.outputTokens()));
        res.send(bytes);
        metrics.synthesis("file", format.wireName(), gen, dur > 0 ? gen / dur : 0, dur, s.cheaperAudioSeconds());
    }

    /** Streams audio bytes (chunked) as they are produced. Closes {@code stream}. */
    public void streamAudio(ServerResponse res, SpeechStream stream, AudioFormat format, long startNanos) {
        try (stream) {
            if (!first(res, stream)) {
                return;
            }
            res.header(HeaderNames.CONTENT_TYPE, format.contentType());
            res.header("X-Sample-Rate", Integer.toString(SR));
            res.header(HeaderNames.TRAILER, TRAILERS);
            ClientStream client = new ClientStream(res.outputStream());
            stalls.watch(client, stream);
            long firstAt = 0;
            try (AudioEncoder enc = AudioEncoders.streaming(format, client, SR)) {
                while (stream.hasNext()) {
                    AudioChunk c = stream.next();
                    enc.write(c.samples());
                    client.flush();
                    if (firstAt == 0 && client.written() > 0) {
                        firstAt = System.nanoTime();
                    }
                }
                enc.finish();
                trailers(res, stream.stats(), startNanos, firstAt);
                client.close();
            } catch (IOException | RuntimeException e) {
                abandoned(client, stream, e);
                return;
            } finally {
                stalls.release(client);
            }
            record("stream", format, stream.stats(), startNanos, firstAt);
        }
    }

    /** Streams server-sent events. Closes {@code stream}. */
    public void streamSse(ServerResponse res, SpeechStream stream, AudioFormat format, long startNanos) {
        try (stream) {
            if (!first(res, stream)) {
                return;
            }
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            res.header("X-Accel-Buffering", "no");
            res.header(HeaderNames.TRAILER, TRAILERS);
            ClientStream client = new ClientStream(res.outputStream());
            stalls.watch(client, stream);
            long firstAt = 0;
            ByteArrayOutputStream encoded = new ByteArrayOutputStream();
            try (AudioEncoder enc = AudioEncoders.streaming(format, encoded, SR)) {
                while (stream.hasNext()) {
                    enc.write(stream.next().samples());
                    if (encoded.size() > 0) {
                        event(client, SpeechAudioDeltaEvent.of(encoded.toByteArray()));
                        encoded.reset();
                        if (firstAt == 0) {
                            firstAt = System.nanoTime();
                        }
                    }
                }
                enc.finish();
                if (encoded.size() > 0) {
                    event(client, SpeechAudioDeltaEvent.of(encoded.toByteArray()));
                }
                SynthesisStats s = stream.stats();
                event(client, SpeechAudioDoneEvent.of(Usage.of(s.inputTokens(), s.outputTokens())));
                trailers(res, s, startNanos, firstAt);
                client.close();
            } catch (IOException | RuntimeException e) {
                abandoned(client, stream, e);
                return;
            } finally {
                stalls.release(client);
            }
            record("sse", format, stream.stats(), startNanos, firstAt);
        }
    }

    /**
     * Waits for the first chunk before committing the response, so a failure before any audio still gets a proper
     * status and error envelope. Returns {@code false} when the error was sent.
     */
    private boolean first(ServerResponse res, SpeechStream stream) {
        try {
            stream.hasNext();
            return true;
        } catch (EngineException e) {
            ApiException api = ErrorResponses.fromEngine(e, "voice", false);
            metrics.error(api.error().type(), api.status());
            ErrorResponses.send(res, api);
            return false;
        }
    }

    private void event(OutputStream out, Object event) throws IOException {
        out.write(("data: " + Json.write(event) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void abandoned(ClientStream client, SpeechStream stream, Exception e) {
        stream.close();
        if (client.clientGone()) {
            metrics.disconnect();
            LOG.fine(() -> "client went away; generation cancelled: " + e.getMessage());
            return;
        }
        // the headers are out: the only honest signal left is to abort the body (no final chunk)
        LOG.log(Level.WARNING, "streamed synthesis failed after the response started", e);
        metrics.error("server_error", 500);
        throw new IllegalStateException("streamed synthesis failed: " + e.getMessage(), e);
    }

    private void record(String mode, AudioFormat format, SynthesisStats s, long startNanos, long firstAt) {
        double gen = (System.nanoTime() - startNanos) / 1e9;
        double ttfa = firstAt == 0 ? gen : (firstAt - startNanos) / 1e9;
        metrics.synthesis(mode, format.wireName(), ttfa, s.audioSeconds() > 0 ? gen / s.audioSeconds() : 0,
                s.audioSeconds(), s.cheaperAudioSeconds());
    }

    /**
     * The timing figures of a streamed response, known only at its end, as HTTP trailers (declared up front in the
     * {@code Trailer} header; clients that do not read trailers ignore them).
     */
    private static void trailers(ServerResponse res, SynthesisStats s, long startNanos, long firstAt) {
        double gen = (System.nanoTime() - startNanos) / 1e9;
        double dur = s.audioSeconds();
        res.trailers().set(HeaderNames.create("X-Audio-Duration"), fmt(dur));
        res.trailers().set(HeaderNames.create("X-Generation-Time"), fmt(gen));
        res.trailers().set(HeaderNames.create("X-Real-Time-Factor"), fmt(dur > 0 ? gen / dur : 0));
        res.trailers().set(HeaderNames.create("X-Time-To-First-Audio"),
                fmt(firstAt == 0 ? gen : (firstAt - startNanos) / 1e9));
        // how much of the stream the engine made the cheaper way to keep a real-time listener fed (0: none)
        res.trailers().set(HeaderNames.create("X-Cheaper-Audio-Seconds"), fmt(s.cheaperAudioSeconds()));
    }

    private static void timingHeaders(ServerResponse res, double audioSeconds, double genSeconds) {
        res.header("X-Audio-Duration", fmt(audioSeconds));
        res.header("X-Generation-Time", fmt(genSeconds));
        res.header("X-Real-Time-Factor", fmt(audioSeconds > 0 ? genSeconds / audioSeconds : 0));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
