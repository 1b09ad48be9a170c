package dev.localai.tts.core.model.t3;

/**
 * Turbo's sampling settings (upstream {@code generate} / {@code inference_turbo} defaults: temperature 0.8, top-k
 * 1000, top-p 0.95, repetition penalty 1.2, at most 1 + 1000 tokens). Each processor is active under the same
 * condition as upstream: temperature when &gt; 0 and != 1 (0 is not greedy: it just disables the warper), top-k when
 * &gt; 0, top-p when &lt; 1, repetition penalty when != 1. min-p, CFG and exaggeration are ignored by Turbo upstream.
 *
 * @param maxGenLen decode steps after the first token (upstream {@code max_gen_len}); the output holds at most
 *                  1 + maxGenLen tokens
 */
public record SamplingParams(double temperature, int topK, double topP, double repetitionPenalty, int maxGenLen) {

    public SamplingParams {
        if (topP <= 0 || topP > 1) {
            throw new IllegalArgumentException("top_p must be in (0, 1]: " + topP);
        }
        if (repetitionPenalty <= 0) {
            throw new IllegalArgumentException("repetition_penalty must be > 0: " + repetitionPenalty);
        }
        if (maxGenLen < 0) {
            throw new IllegalArgumentException("maxGenLen must be >= 0: " + maxGenLen);
        }
    }

    public static SamplingParams defaults() {
        return new SamplingParams(0.8, 1000, 0.95, 1.2, 1000);
    }

    public SamplingParams withMaxGenLen(int n) {
        return new SamplingParams(temperature, topK, topP, repetitionPenalty, n);
    }
}
