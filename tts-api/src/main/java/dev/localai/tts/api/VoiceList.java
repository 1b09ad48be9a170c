package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/audio/voices}: {@code {"object":"list","voices":[{"id","name",...}],"voice_map":{"alloy":"default"}}}
 * as Open WebUI expects (it reads {@code voices[].id}). Servers offer {@link LegacyVoiceList}
 * ({@code {"voices":["alloy",...]}}) too.
 *
 * @param object   always {@code "list"}
 * @param voices   the voices
 * @param voiceMap extension: the voice names that are not library ids but are accepted as {@code voice} (OpenAI's
 *                 {@code alloy}, {@code echo}...), each with the library voice it stands for; omitted when empty
 */
public record VoiceList(String object, List<VoiceObject> voices,
                        @JsonProperty("voice_map") @JsonInclude(JsonInclude.Include.NON_EMPTY)
                        Map<String, String> voiceMap) {
    public VoiceList {
        voices = List.copyOf(voices);
        voiceMap = voiceMap == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(voiceMap));
    }

    public static VoiceList of(List<VoiceObject> voices) {
        return new VoiceList("list", voices, Map.of());
    }

    /** The list with the voice map (kept in its order). */
    public static VoiceList of(List<VoiceObject> voices, Map<String, String> voiceMap) {
        return new VoiceList("list", voices, voiceMap);
    }

    /**
     * The legacy string-array shape some clients (Home Assistant integrations) accept exclusively.
     *
     * @param voices voice ids
     */
    public record LegacyVoiceList(List<String> voices) {
    }
}
