package dev.localai.tts.server.speech;

import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.VoiceRef;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.VoiceInfo;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Turns the {@code voice} of a request into a library voice id: a library id is used as it is; an OpenAI voice name
 * ({@code alloy}, ...) goes through the configured map; anything else is a 400 naming the voices there are.
 */
public final class VoiceResolver {
    private final Map<String, String> openAiMap;

    /** @param openAiMap OpenAI voice names to library voice ids */
    public VoiceResolver(Map<String, String> openAiMap) {
        this.openAiMap = Map.copyOf(openAiMap);
    }

    /** The library id for {@code ref}. */
    public String resolve(VoiceRef ref, SpeechSynthesizer engine) {
        List<VoiceInfo> voices = engine.voices();
        String v = ref.value();
        if (voices.stream().anyMatch(x -> x.id().equals(v))) {
            return v;
        }
        String param = ref.byId() ? "voice.id" : "voice";
        if (!ref.byId() && openAiMap.containsKey(v)) {
            String target = openAiMap.get(v);
            if (voices.stream().anyMatch(x -> x.id().equals(target))) {
                return target;
            }
            throw ApiException.invalid(param, "voice_not_found", "Voice '" + v + "' is mapped to the library voice '"
                    + target + "', which does not exist. Available voices: " + names(voices) + ".");
        }
        throw ApiException.invalid(param, "voice_not_found", "Unknown voice '" + v + "'. Available voices: "
                + names(voices) + (ref.byId() ? "" : "; OpenAI names (" + String.join(", ", openAiMap.keySet())
                + ") map to library voices") + ".");
    }

    private static String names(List<VoiceInfo> voices) {
        return voices.isEmpty() ? "(none)" : voices.stream().map(VoiceInfo::id).collect(Collectors.joining(", "));
    }
}
