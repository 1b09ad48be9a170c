package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Token usage of a speech request: text tokens in, speech tokens out.
 *
 * @param inputTokens  text (BPE) tokens
 * @param outputTokens generated speech tokens
 * @param totalTokens  the sum
 */
public record Usage(@JsonProperty("input_tokens") long inputTokens, @JsonProperty("output_tokens") long outputTokens,
                    @JsonProperty("total_tokens") long totalTokens) {
    public static Usage of(long in, long out) {
        return new Usage(in, out, in + out);
    }
}
