package dev.localai.tts.server.wyoming;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.VoiceInfo;
import java.util.List;

/**
 * The {@code info} answer to {@code describe}: one installed TTS program whose voices are the voice library (the
 * built-in voice first), each listed under the configured languages. Field names follow the reference
 * implementation's {@code TtsProgram} and {@code TtsVoice}; Home Assistant names its TTS entity after the program and
 * offers the voices of the pipeline's language.
 */
final class TtsInfo {
    static final String ATTRIBUTION_NAME = "Resemble AI";
    static final String ATTRIBUTION_URL = "https://github.com/resemble-ai/chatterbox";

    private final String programName;
    private final List<String> languages;
    private final String version;

    /**
     * @param programName what the program is called (Home Assistant's entity name)
     * @param languages   the languages every voice is listed under
     * @param version     the server's version, or {@code null}
     */
    TtsInfo(String programName, List<String> languages, String version) {
        this.programName = programName;
        this.languages = List.copyOf(languages);
        this.version = version;
    }

    /**
     * The {@code info} event for these voices; {@code null} voices (the model has not loaded yet) lists the built-in
     * voice alone.
     */
    WyomingEvent event(List<VoiceInfo> voices) {
        ObjectNode program = WyomingEvent.object();
        program.put("name", programName);
        program.put("description", "Chatterbox Turbo text-to-speech with voice cloning (localai-tts)");
        attribution(program);
        program.put("installed", true);
        program.put("version", version);
        ArrayNode list = program.putArray("voices");
        if (voices == null) {
            voice(list, TtsEngine.BUILTIN_VOICE, "Built-in voice");
        } else {
            voices.forEach(v -> voice(list, v.id(), v.name()));
        }
        program.put("supports_synthesize_streaming", true);

        ObjectNode data = WyomingEvent.object();
        for (String domain : new String[] {"asr", "handle", "intent", "wake", "mic", "snd"}) {
            data.putArray(domain);
        }
        data.putArray("tts").add(program);
        return WyomingEvent.of(WyomingEvent.INFO, data);
    }

    /** A voice: its id is what {@code synthesize} names, its display name what Home Assistant shows. */
    private void voice(ArrayNode list, String id, String displayName) {
        ObjectNode v = list.addObject();
        v.put("name", id);
        v.put("description", displayName);
        attribution(v);
        v.put("installed", true);
        v.putNull("version");
        ArrayNode langs = v.putArray("languages");
        languages.forEach(langs::add);
    }

    private static void attribution(ObjectNode o) {
        ObjectNode a = o.putObject("attribution");
        a.put("name", ATTRIBUTION_NAME);
        a.put("url", ATTRIBUTION_URL);
    }
}
