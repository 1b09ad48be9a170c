package dev.localai.tts.api;

import java.util.List;

/**
 * {@code GET /v1/audio/voices}: {@code {"object":"list","voices":[{"id","name",...}]}} as Open WebUI expects
 * (it reads {@code voices[].id}). Servers offer {@link LegacyVoiceList} ({@code {"voices":["alloy",...]}}) too.
 *
 * @param object always {@code "list"}
 * @param voices the voices
 */
public record VoiceList(String object, List<VoiceObject> voices) {
    public static VoiceList of(List<VoiceObject> voices) {
        return new VoiceList("list", List.copyOf(voices));
    }

    /**
     * The legacy string-array shape some clients (Home Assistant integrations) accept exclusively.
     *
     * @param voices voice ids
     */
    public record LegacyVoiceList(List<String> voices) {
    }
}
