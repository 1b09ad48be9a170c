package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A voice, shaped as OpenAI's {@code VoiceResource}: {@code {"object":"audio.voice","id","name","created_at"}}, plus
 * {@code built_in} (library voices shipped with the server cannot be deleted).
 *
 * @param object    always {@code "audio.voice"}
 * @param id        opaque id, usable as {@code voice} or {@code {"id": ...}}
 * @param name      display name
 * @param createdAt unix seconds
 * @param builtIn   {@code true} for voices that cannot be deleted
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record VoiceObject(String object, String id, String name, @JsonProperty("created_at") long createdAt,
                          @JsonProperty("built_in") boolean builtIn) {
    public static VoiceObject of(String id, String name, long createdAt, boolean builtIn) {
        return new VoiceObject("audio.voice", id, name, createdAt, builtIn);
    }
}
