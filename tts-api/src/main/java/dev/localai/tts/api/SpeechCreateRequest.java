package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * The body of {@code POST /v1/audio/speech}: every OpenAI field plus documented extension fields for the sampling
 * knobs Chatterbox Turbo honours. Parse untrusted JSON with {@link SpeechRequestParser}, which validates and fills
 * the defaults; the compact constructor only enforces non-null for the required fields.
 *
 * @param model             model name ({@code tts-1}, {@code tts-1-hd}, {@code gpt-4o-mini-tts}, {@code chatterbox-turbo} ...)
 * @param input             the text, 1 to {@value SpeechRequestParser#MAX_INPUT_CHARS} characters
 * @param voice             a voice name or {@code {"id": ...}}
 * @param instructions      optional style instructions (accepted, a no-op for Chatterbox Turbo)
 * @param responseFormat    output container/codec, default {@link ResponseFormat#MP3}
 * @param speed             playback speed 0.25 to 4.0, default 1.0 (pitch-preserving time-stretch)
 * @param streamFormat      {@link StreamFormat#AUDIO} (default) or {@link StreamFormat#SSE}
 * @param stream            extension: {@code false} asks for the whole file with {@code Content-Length} and timing
 *                          headers instead of chunked streaming; {@code null} = server default
 * @param seed              extension: random seed for reproducible sampling, or {@code null}
 * @param temperature       extension: sampling temperature (0, 2], or {@code null} for the model default
 * @param topK              extension: top-k &gt;= 1, or {@code null}
 * @param topP              extension: nucleus top-p (0, 1], or {@code null}
 * @param repetitionPenalty extension: repetition penalty [1, 10], or {@code null}
 * @param maxTokens         extension: cap on generated speech tokens per text chunk, or {@code null}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SpeechCreateRequest(
        String model,
        String input,
        VoiceRef voice,
        String instructions,
        @JsonProperty("response_format") ResponseFormat responseFormat,
        Double speed,
        @JsonProperty("stream_format") StreamFormat streamFormat,
        Boolean stream,
        Long seed,
        Double temperature,
        @JsonProperty("top_k") Integer topK,
        @JsonProperty("top_p") Double topP,
        @JsonProperty("repetition_penalty") Double repetitionPenalty,
        @JsonProperty("max_tokens") Integer maxTokens) {

    public SpeechCreateRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(voice, "voice");
    }

    /** A request with only the required fields (the rest default). */
    public static SpeechCreateRequest of(String model, String input, String voice) {
        return new SpeechCreateRequest(model, input, VoiceRef.name(voice), null, null, null, null,
                null, null, null, null, null, null, null);
    }

    /** {@link #responseFormat()} or its default {@code mp3}. */
    public ResponseFormat responseFormatOrDefault() {
        return responseFormat == null ? ResponseFormat.MP3 : responseFormat;
    }

    /** {@link #speed()} or its default 1.0. */
    public double speedOrDefault() {
        return speed == null ? 1.0 : speed;
    }

    /** {@link #streamFormat()} or its default {@code audio}. */
    public StreamFormat streamFormatOrDefault() {
        return streamFormat == null ? StreamFormat.AUDIO : streamFormat;
    }
}
