package dev.localai.tts.api;

import java.util.List;

/**
 * {@code GET /v1/models}: {@code {"object":"list","data":[...]}}.
 *
 * @param object always {@code "list"}
 * @param data   the models
 */
public record ModelList(String object, List<ModelObject> data) {
    public static ModelList of(List<ModelObject> data) {
        return new ModelList("list", List.copyOf(data));
    }
}
