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
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.http.Hangups;
import dev.localai.tts.server.metrics.Metrics;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes synthesized speech to the client in one of three ways: a whole file (with {@code Content-Length} and the
 * timing headers), a chunked audio stream (bytes leave as the encoder releases them), or server-sent events
 * ({@code speech.audio.delta} with base64 audio, then one {@code speech.audio.done} with usage). In both streamed
 * modes the encoder runs continuously, so the concatenated bytes are one valid file. A client that goes away cancels
 * the generation: found out by a failed write, or sooner, between blocks or while a whole file is made, by
 * {@link Hangups}.
 */
public final class AudioResponder {
    private static final Logger LOG = Logger.getLogger(AudioResponder.class.getName());
    private static final int SR = AudioClip.SAMPLE_RATE;
    private static final String TRAILERS = "X-Audio-Duration, X-Generation-Time, X-Real-Time-Factor, "
            + "X-Time-To-First-Audio, X-Cheaper-Audio-Seconds";

    private final Metrics metrics;
    private final StallGuard stalls;
    private final Hangups hangups;

    /**
     * @param metrics  where syntheses, errors and disconnects are counted
     * @param stalls   cancels the generation of clients that stop reading
     * @param hangups  cancels the generation of clients that close their connection
     */
    public AudioResponder(Metrics metrics, StallGuard stalls, Hangups hangups) {
        this.metrics = metrics;
        this.stalls = stalls;
        this.hangups = hangups;
    }

    /**
     * Synthesises {@code request} whole and sends it as a complete file ({@link #sendFile}). A client that closes its
     * connection before the file is ready cancels the synthesis, which frees its slot at once instead of after the
     * whole text; it is counted as a disconnect and sent nothing.
     *
     * @throws dev.localai.tts.core.engine.api.EngineException as {@link SpeechSynthesizer#synthesize}
     */
    public void synthesizeFile(ServerRequest req, ServerResponse res, SpeechSynthesizer engine, SpeechRequest request,
                               AudioFormat format, long startNanos) {
        CompletableFuture<AudioClip> job = engine.synthesizeAsync(request);
        AtomicBoolean hungUp = new AtomicBoolean();
        AudioClip clip;
        try (Hangups.Watch w = watch(req, () -> {
            hungUp.set(true);
            metrics.disconnect(); // counted when found, as a stream's is
            job.cancel(true);
        })) {
            clip = job.join();
        } catch (CancellationException | CompletionException e) {
            if (hungUp.get()) {
                answerGone(res, "its file was ready");
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
        sendFile(res, clip, format, startNanos);
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
    public void streamAudio(ServerRequest req, ServerResponse res, SpeechStream stream, AudioFormat format,
                            long startNanos) {
        Departure departure = new Departure(stream);
        try (stream; Hangups.Watch w = watch(req, departure::hangUp)) {
            if (!first(res, stream, departure)) {
                return;
            }
            res.header(HeaderNames.CONTENT_TYPE, format.contentType());
            res.header("X-Sample-Rate", Integer.toString(SR));
            res.header(HeaderNames.TRAILER, TRAILERS);
            ClientStream client = departure.attach(new ClientStream(res.outputStream()));
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
                // the generation is over: a client that closes once it has the end is no departure
                w.close();
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
    public void streamSse(ServerRequest req, ServerResponse res, SpeechStream stream, AudioFormat format,
                          long startNanos) {
        Departure departure = new Departure(stream);
        try (stream; Hangups.Watch w = watch(req, departure::hangUp)) {
            if (!first(res, stream, departure)) {
                return;
            }
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            res.header("X-Accel-Buffering", "no");
            res.header(HeaderNames.TRAILER, TRAILERS);
            ClientStream client = departure.attach(new ClientStream(res.outputStream()));
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
                w.close(); // as for a stream of audio bytes
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
     * status and error envelope. Returns {@code false} when the error was sent, or when the client left meanwhile.
     */
    private boolean first(ServerResponse res, SpeechStream stream, Departure departure) {
        try {
            stream.hasNext();
        } catch (RuntimeException e) {
            if (departure.happened()) {
                answerGone(res, "its audio began");
                return false;
            }
            if (!(e instanceof EngineException engine)) {
                throw e;
            }
            ApiException api = ErrorResponses.fromEngine(engine, "voice", false);
            metrics.error(api.error().type(), api.status());
            ErrorResponses.send(res, api);
            return false;
        }
        if (departure.happened()) {
            answerGone(res, "its audio began");
            return false;
        }
        return true;
    }

    /** What a route answers a client that closed its connection before anything was sent: nobody reads it. */
    private static void answerGone(ServerResponse res, String before) {
        LOG.fine(() -> "client closed its connection before " + before + "; generation cancelled");
        ErrorResponses.send(res, ErrorResponses.fromEngine(new EngineException(EngineException.Kind.CANCELLED,
                "the client closed its connection"), "voice", false));
    }

    /** Watches the request's connection for the client closing it ({@link Hangups}). */
    private Hangups.Watch watch(ServerRequest req, Runnable onHangup) {
        return hangups.watch(req.localPeer().address(), req.remotePeer().address(), onHangup);
    }

    /**
     * A streamed response's client closing its connection ({@link Hangups}), before its audio began or after: counted
     * once and at once (before its slot frees, as a failed write's is), the generation stopped now, and the response's
     * body, once there is one, refusing the next write.
     */
    private final class Departure {
        private final SpeechStream stream;
        private ClientStream client;
        private boolean happened;

        Departure(SpeechStream stream) {
            this.stream = stream;
        }

        void hangUp() {
            synchronized (this) {
                if (happened) {
                    return;
                }
                happened = true;
                if (client != null) {
                    client.markHungUp();
                }
            }
            metrics.disconnect();
            stream.close();
        }

        synchronized ClientStream attach(ClientStream c) {
            client = c;
            if (happened) {
                c.markHungUp();
            }
            return c;
        }

        synchronized boolean happened() {
            return happened;
        }
    }

    private void event(OutputStream out, Object event) throws IOException {
        out.write(("data: " + Json.write(event) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void abandoned(ClientStream client, SpeechStream stream, Exception e) {
        stream.close();
        if (client.clientGone()) {
            if (!client.hungUp()) {
                metrics.disconnect(); // else counted when the hang-up was found
            }
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
