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
 * @param exaggeration      accepted for clients of the other Chatterbox servers and ignored (Turbo has no emotion
 *                          exaggeration control), as upstream Turbo does; see {@link #ignoredParameters()}
 * @param cfgWeight         accepted and ignored likewise (Turbo does not use classifier-free guidance)
 * @param minP              accepted and ignored likewise (Turbo samples with top_k/top_p)
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
        @JsonProperty("max_tokens") Integer maxTokens,
        Double exaggeration,
        @JsonProperty("cfg_weight") Double cfgWeight,
        @JsonProperty("min_p") Double minP) {

    public SpeechCreateRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(voice, "voice");
    }

    /** A request without the ignored fields of the other Chatterbox servers. */
    public SpeechCreateRequest(String model, String input, VoiceRef voice, String instructions,
                               ResponseFormat responseFormat, Double speed, StreamFormat streamFormat, Boolean stream,
                               Long seed, Double temperature, Integer topK, Double topP, Double repetitionPenalty,
                               Integer maxTokens) {
        this(model, input, voice, instructions, responseFormat, speed, streamFormat, stream, seed, temperature, topK,
                topP, repetitionPenalty, maxTokens, null, null, null);
    }

    /**
     * The wire names of the fields this request carries that Chatterbox Turbo ignores ({@code exaggeration},
     * {@code cfg_weight}, {@code min_p}), in that order; empty when none. A server reports them in a warning header.
     */
    public java.util.List<String> ignoredParameters() {
        java.util.List<String> out = new java.util.ArrayList<>(3);
        if (exaggeration != null) {
            out.add("exaggeration");
        }
        if (cfgWeight != null) {
            out.add("cfg_weight");
        }
        if (minP != null) {
            out.add("min_p");
        }
        return java.util.List.copyOf(out);
    }

    /** A request with only the required fields (the rest default). */
    public static SpeechCreateRequest of(String model, String input, String voice) {
        return new SpeechCreateRequest(model, input, VoiceRef.name(voice), null, null, null, null,
                null, null, null, null, null, null, null);
    }

    /**
     * The warning a server sends (as {@code X-TTS-Warning}) for a request with ignored fields, e.g.
     * {@code "exaggeration and cfg_weight are ignored by Chatterbox Turbo"}, or {@code null} when there are none.
     */
    public String ignoredParametersWarning() {
        java.util.List<String> names = ignoredParameters();
        if (names.isEmpty()) {
            return null;
        }
        String joined = names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1);
        return joined + (names.size() == 1 ? " is" : " are") + " ignored by Chatterbox Turbo";
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
