package dev.localai.tts.api;

import java.util.List;

/**
 * {@code GET /v1/audio/models}, the de-facto listing Open WebUI calls: {@code {"models":[{"id":..}],"object":"list"}}.
 *
 * @param object always {@code "list"}
 * @param models the model ids
 */
public record AudioModelList(String object, List<Entry> models) {
    /** @param id model id */
    public record Entry(String id) {
    }

    public static AudioModelList of(List<String> ids) {
        return new AudioModelList("list", ids.stream().map(Entry::new).toList());
    }
}
