package dev.localai.tts.core.engine;

import dev.localai.tts.core.engine.api.SpeechRequest;

/** Identity of a finished clip in the {@link AudioCache}: everything that changes the samples. */
record CacheKey(String text, String voice, String format, double speed, long seed, double temperature, int topK,
                double topP, double repetitionPenalty, Integer maxTokens) {
    static CacheKey of(SpeechRequest r, String voiceContent) {
        return new CacheKey(r.text(), voiceContent, "pcm", r.speed(), r.seed() == null ? 0L : r.seed(),
                r.temperatureOrDefault(), r.topKOrDefault(), r.topPOrDefault(), r.repetitionPenaltyOrDefault(),
                r.maxTokens());
    }
}
