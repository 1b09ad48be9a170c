package dev.localai.tts.core.engine.api;

import dev.localai.tts.core.audio.encode.TimeStretcher;
import java.util.Objects;

/**
 * One synthesis request. Immutable; build with {@link #builder(String)}. The compact constructor validates every
 * field and throws {@link IllegalArgumentException} naming it.
 *
 * <p>Sampling knobs left {@code null} take the model's defaults (Turbo: temperature {@value #DEFAULT_TEMPERATURE},
 * top_k {@value #DEFAULT_TOP_K}, top_p {@value #DEFAULT_TOP_P}, repetition penalty
 * {@value #DEFAULT_REPETITION_PENALTY}). Chatterbox Turbo ignores emotion exaggeration, classifier-free guidance
 * (cfg_weight) and min_p upstream, so they are deliberately not part of the request: a front end that accepts them
 * (e.g. an OpenAI-compatible server) should reject them rather than silently drop them. The engine makes
 * 24 kHz float PCM; the caller picks the encoder (see {@code audio.encode.AudioEncoders}).
 *
 * @param text              the text to speak, 1 to {@value #MAX_TEXT_CHARS} characters, not blank; may hold
 *                          paralinguistic tags ({@code [laugh]}...) and pause tags ({@code [pause:0.5s]}, see
 *                          {@link dev.localai.tts.core.text.Pauses}), which must be well formed
 * @param voiceId           a voice library id, or {@code null} for the model's built-in voice
 * @param speed             pitch-preserving playback speed, {@value #MIN_SPEED} to {@value #MAX_SPEED}
 * @param seed              random seed for reproducible output, or {@code null} for the engine's default seed
 *                          (the built-in engine uses 0, so equal requests give equal, cacheable audio). On one
 *                          machine the same model, text, voice, seed and settings give bit-identical audio in fp32
 *                          and bf16, each of the streamed and the whole path by itself (streamed blocks differ from
 *                          the whole clip near their seams), alone or batched in fp32; bf16 batched decoding, which
 *                          the engine only does when asked, rounds differently (docs/numerics.md)
 * @param temperature       sampling temperature in (0, 2], or {@code null}
 * @param topK              top-k &gt;= 1, or {@code null}
 * @param topP              nucleus top-p in (0, 1], or {@code null}
 * @param repetitionPenalty repetition penalty in [1, 10], or {@code null}
 * @param maxTokens         cap on speech tokens generated per text chunk (1 to 4096), or {@code null}
 */
public record SpeechRequest(String text, String voiceId, double speed, Long seed,
                            Double temperature, Integer topK, Double topP, Double repetitionPenalty,
                            Integer maxTokens) {

    public static final int MAX_TEXT_CHARS = 100_000;
    public static final double MIN_SPEED = TimeStretcher.MIN_SPEED;
    public static final double MAX_SPEED = TimeStretcher.MAX_SPEED;
    public static final double DEFAULT_TEMPERATURE = 0.8;
    public static final int DEFAULT_TOP_K = 1000;
    public static final double DEFAULT_TOP_P = 0.95;
    public static final double DEFAULT_REPETITION_PENALTY = 1.2;

    public SpeechRequest {
        Objects.requireNonNull(text, "text");
        if (text.isBlank()) {
            throw new IllegalArgumentException("text must not be blank");
        }
        if (text.length() > MAX_TEXT_CHARS) {
            throw new IllegalArgumentException("text is longer than " + MAX_TEXT_CHARS + " characters: " + text.length());
        }
        dev.localai.tts.core.text.Pauses.validate(text);
        if (voiceId != null && voiceId.isBlank()) {
            throw new IllegalArgumentException("voiceId must be null (built-in voice) or not blank");
        }
        if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
            throw new IllegalArgumentException(
                    "speed must be between " + MIN_SPEED + " and " + MAX_SPEED + ": " + speed);
        }
        if (temperature != null && !(temperature > 0 && temperature <= 2)) {
            throw new IllegalArgumentException("temperature must be in (0, 2]: " + temperature);
        }
        if (topK != null && topK < 1) {
            throw new IllegalArgumentException("topK must be >= 1: " + topK);
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1]: " + topP);
        }
        if (repetitionPenalty != null && !(repetitionPenalty >= 1 && repetitionPenalty <= 10)) {
            throw new IllegalArgumentException("repetitionPenalty must be in [1, 10]: " + repetitionPenalty);
        }
        if (maxTokens != null && (maxTokens < 1 || maxTokens > 4096)) {
            throw new IllegalArgumentException("maxTokens must be in [1, 4096]: " + maxTokens);
        }
    }

    /** A request with every option at its default (built-in voice, mp3, speed 1). */
    public static SpeechRequest of(String text) {
        return builder(text).build();
    }

    /** A builder starting from {@code text}. */
    public static Builder builder(String text) {
        return new Builder(text);
    }

    /** A builder holding this request's values. */
    public Builder toBuilder() {
        return new Builder(text).voiceId(voiceId).speed(speed).seed(seed).temperature(temperature)
                .topK(topK).topP(topP).repetitionPenalty(repetitionPenalty).maxTokens(maxTokens);
    }

    /** Temperature or the Turbo default. */
    public double temperatureOrDefault() {
        return temperature == null ? DEFAULT_TEMPERATURE : temperature;
    }

    /** Top-k or the Turbo default. */
    public int topKOrDefault() {
        return topK == null ? DEFAULT_TOP_K : topK;
    }

    /** Top-p or the Turbo default. */
    public double topPOrDefault() {
        return topP == null ? DEFAULT_TOP_P : topP;
    }

    /** Repetition penalty or the Turbo default. */
    public double repetitionPenaltyOrDefault() {
        return repetitionPenalty == null ? DEFAULT_REPETITION_PENALTY : repetitionPenalty;
    }

    /** Mutable builder of {@link SpeechRequest}; {@link #build()} validates. */
    public static final class Builder {
        private String text;
        private String voiceId;
        private double speed = 1.0;
        private Long seed;
        private Double temperature;
        private Integer topK;
        private Double topP;
        private Double repetitionPenalty;
        private Integer maxTokens;

        private Builder(String text) {
            this.text = text;
        }

        public Builder text(String v) { this.text = v; return this; }
        public Builder voiceId(String v) { this.voiceId = v; return this; }
        public Builder speed(double v) { this.speed = v; return this; }
        /** The random seed, or {@code null} for the engine's default. */
        public Builder seed(Long v) { this.seed = v; return this; }
        /** The random seed; {@code seed(42)} and {@code seed(42L)} both land here. */
        public Builder seed(long v) { this.seed = v; return this; }
        public Builder temperature(Double v) { this.temperature = v; return this; }
        public Builder topK(Integer v) { this.topK = v; return this; }
        public Builder topP(Double v) { this.topP = v; return this; }
        public Builder repetitionPenalty(Double v) { this.repetitionPenalty = v; return this; }
        public Builder maxTokens(Integer v) { this.maxTokens = v; return this; }

        public SpeechRequest build() {
            return new SpeechRequest(text, voiceId, speed, seed, temperature, topK, topP, repetitionPenalty,
                    maxTokens);
        }
    }
}
