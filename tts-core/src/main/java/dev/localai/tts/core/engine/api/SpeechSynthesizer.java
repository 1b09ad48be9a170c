package dev.localai.tts.core.engine.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The speech engine as its users (the server, JVM applications) see it. Implementations are thread-safe: any number
 * of threads may call {@link #synthesize} and {@link #stream} at once; the engine bounds concurrency with its own
 * queue and answers {@link EngineException.Kind#BUSY} when the queue is full.
 *
 * <p>All audio is mono float PCM at {@link AudioClip#SAMPLE_RATE}; {@link SpeechRequest#speed()} is applied by the
 * engine (pitch-preserving). {@link SpeechRequest#format()} is informational for the engine: encoding is the
 * caller's job ({@code dev.localai.tts.core.audio.encode.AudioEncoders}).
 *
 * <pre>{@code
 * try (SpeechSynthesizer tts = ...) {
 *     AudioClip clip = tts.synthesize(SpeechRequest.of("Hello there."));
 *     try (SpeechStream s = tts.stream(SpeechRequest.builder("A longer text.").speed(1.25).build())) {
 *         while (s.hasNext()) play(s.next().samples());
 *     }
 * }
 * }</pre>
 */
public interface SpeechSynthesizer extends AutoCloseable {

    /**
     * Synthesises the whole request and returns when done.
     *
     * @throws EngineException on an unknown voice, when not ready, when busy, or on an engine fault
     */
    AudioClip synthesize(SpeechRequest request);

    /**
     * Synthesises the whole request, reporting progress as the audio is generated: after every block of audio (on
     * the calling thread, so keep the listener quick), and once more with {@link SynthesisProgress#done()} set.
     * The default implementation streams the request and joins the chunks.
     *
     * @throws EngineException as {@link #synthesize(SpeechRequest)}
     */
    default AudioClip synthesize(SpeechRequest request, Consumer<? super SynthesisProgress> progress) {
        Objects.requireNonNull(progress, "progress");
        List<float[]> parts = new ArrayList<>();
        int length = 0;
        try (SpeechStream s = stream(request)) {
            while (s.hasNext()) {
                AudioChunk c = s.next();
                if (c.samples().length > 0) {
                    parts.add(c.samples());
                    length += c.samples().length;
                    progress.accept(SynthesisProgress.of(c.stats(), false));
                }
            }
            SynthesisStats stats = s.stats();
            float[] all = new float[length];
            int at = 0;
            for (float[] p : parts) {
                System.arraycopy(p, 0, all, at, p.length);
                at += p.length;
            }
            progress.accept(SynthesisProgress.of(stats, true));
            return new AudioClip(all, AudioClip.SAMPLE_RATE, stats);
        }
    }

    /**
     * Synthesises the request on a virtual thread of its own. The future completes with the clip, or exceptionally
     * with the {@link EngineException} that {@link #synthesize(SpeechRequest)} would throw; cancelling it cancels
     * the generation and frees its slot.
     */
    default CompletableFuture<AudioClip> synthesizeAsync(SpeechRequest request) {
        Objects.requireNonNull(request, "request");
        return AsyncSynthesis.start(() -> synthesize(request));
    }

    /**
     * Starts a streamed synthesis. The request is validated (voice known, engine ready, a slot or queue place free)
     * before this returns, so errors a caller can report as HTTP statuses are thrown here rather than from the
     * iterator. Closing the stream cancels the generation.
     *
     * @throws EngineException on an unknown voice, when not ready, or when busy
     */
    SpeechStream stream(SpeechRequest request);

    /** The voices of the library (built-in first). */
    List<VoiceInfo> voices();

    /** One voice by id. */
    default Optional<VoiceInfo> voice(String id) {
        return voices().stream().filter(v -> v.id().equals(id)).findFirst();
    }

    /**
     * Adds a voice from a reference clip (any format FFmpeg decodes; at least 5 s of speech).
     *
     * @param name  display name (also the basis of the id)
     * @param audio the encoded clip
     * @throws EngineException {@link EngineException.Kind#INVALID_AUDIO} when unusable,
     *                         {@link EngineException.Kind#CONFLICT} when the name is taken
     */
    VoiceInfo addVoice(String name, byte[] audio);

    /**
     * Deletes a voice.
     *
     * @return {@code false} when no such voice exists
     * @throws EngineException {@link EngineException.Kind#FORBIDDEN} for built-in voices
     */
    boolean deleteVoice(String id);

    /**
     * Renames a voice; its id changes with its name (the conditionals are kept).
     *
     * @return the voice under its new name
     * @throws EngineException {@link EngineException.Kind#UNKNOWN_VOICE} when there is no such voice,
     *                         {@link EngineException.Kind#FORBIDDEN} for built-in voices,
     *                         {@link EngineException.Kind#CONFLICT} when the new name is taken,
     *                         {@link EngineException.Kind#INVALID_REQUEST} for an invalid name or an engine that
     *                         cannot rename
     */
    default VoiceInfo renameVoice(String id, String newName) {
        throw new EngineException(EngineException.Kind.INVALID_REQUEST, "this engine cannot rename voices");
    }

    /** Readiness and load figures. Cheap; may be polled. */
    EngineHealth health();

    /** What model runs on what device. */
    ModelInfo modelInfo();

    /** Stops accepting requests, cancels running ones and frees native memory. Never throws. */
    @Override
    void close();
}
