package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * An entry of {@code GET /v1/models}.
 *
 * @param id           model id ({@code chatterbox-turbo}, or an alias such as {@code tts-1})
 * @param object       always {@code "model"}
 * @param created      unix seconds
 * @param ownedBy      owner
 * @param shutdownDate always {@code null} (present because OpenAI lists it)
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ModelObject(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
                          @JsonProperty("shutdown_date") String shutdownDate) {
    public static ModelObject of(String id, long created, String ownedBy) {
        return new ModelObject(id, "model", created, ownedBy, null);
    }
}
