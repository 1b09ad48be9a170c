package dev.localai.manager.config;

import java.util.Locale;
import java.util.Set;

/** What a model serves; gates which OpenAI routes may target it. */
public enum ModelType {
    TEXT, TTS, STT, IMAGE, EMBEDDING;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ModelType parse(String s) {
        for (ModelType t : values()) {
            if (t.wire().equals(s)) return t;
        }
        // common synonyms used by home-lab configs
        return switch (s) {
            case "llm", "chat" -> TEXT;
            case "speech", "audio" -> TTS;
            case "asr", "transcription" -> STT;
            case "embeddings" -> EMBEDDING;
            default -> null;
        };
    }

    /** Types that may serve the given OpenAI path (null when the path is not type-gated). */
    public static Set<ModelType> forPath(String path) {
        if (path.startsWith("/v1/audio/speech")) return Set.of(TTS);
        if (path.startsWith("/v1/audio/transcriptions") || path.startsWith("/v1/audio/translations")) return Set.of(STT);
        if (path.startsWith("/v1/chat/completions") || path.startsWith("/v1/completions") || path.startsWith("/v1/responses")) return Set.of(TEXT);
        if (path.startsWith("/v1/embeddings")) return Set.of(EMBEDDING, TEXT);
        if (path.startsWith("/v1/images")) return Set.of(IMAGE);
        return null;
    }
}
