package dev.localai.tts.core.text;

import java.nio.file.Path;

/**
 * Text to T3 text-token ids exactly as upstream's {@code generate} does it: {@link PuncNorm#normalize} then the GPT-2
 * tokenizer with truncation to {@code model_max_length}; no start/stop text tokens are added.
 */
public final class TextFrontEnd {
    private final Gpt2Tokenizer tokenizer;

    public TextFrontEnd(Gpt2Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Reads the tokenizer files of a model directory. */
    public static TextFrontEnd load(Path modelDir) {
        return new TextFrontEnd(Gpt2Tokenizer.load(modelDir));
    }

    public Gpt2Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Normalised text ids for T3. */
    public int[] textTokens(String rawText) {
        return tokenizer.encodeTruncated(PuncNorm.normalize(rawText));
    }
}
