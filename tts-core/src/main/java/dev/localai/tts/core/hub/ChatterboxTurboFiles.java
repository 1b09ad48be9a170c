package dev.localai.tts.core.hub;

import java.util.List;

/** The Hugging Face repository of Chatterbox Turbo and the files inference needs from it. */
public final class ChatterboxTurboFiles {
    private ChatterboxTurboFiles() {}

    public static final String REPO = "ResembleAI/chatterbox-turbo";
    public static final String DEFAULT_REVISION = "main";

    public static final String T3 = "t3_turbo_v1.safetensors";
    public static final String S3GEN = "s3gen_meanflow.safetensors";
    public static final String VOICE_ENCODER = "ve.safetensors";
    public static final String CONDS = "conds.pt";
    public static final String VOCAB = "vocab.json";
    public static final String MERGES = "merges.txt";
    public static final String ADDED_TOKENS = "added_tokens.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";

    /** The weights files (safetensors), in the order they are loaded. */
    public static final List<String> WEIGHTS = List.of(VOICE_ENCODER, T3, S3GEN);

    /** The text tokenizer files. */
    public static final List<String> TOKENIZER = List.of(VOCAB, MERGES, ADDED_TOKENS, TOKENIZER_CONFIG,
            SPECIAL_TOKENS_MAP);

    /**
     * Everything inference reads (the unused 10-step {@code s3gen.safetensors} and the training yaml are left out),
     * small files first so a broken connection shows early.
     */
    public static final List<String> REQUIRED = List.of(TOKENIZER_CONFIG, SPECIAL_TOKENS_MAP, ADDED_TOKENS, VOCAB,
            MERGES, CONDS, VOICE_ENCODER, S3GEN, T3);
}
