package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code GET /v1/audio/tags} (an extension): the tags the text of a speech request may hold.
 * <pre>{@code
 * {"object": "list",
 *  "tags": [{"tag": "[laugh]", "kind": "sound"}, ..., {"tag": "[whispering]", "kind": "delivery"}, ...],
 *  "pause": {"syntax": "[pause:0.5s]", "examples": ["[pause:0.5s]", "[pause:500ms]"], "max_seconds": 10.0,
 *            "max_total_seconds": 60.0}}
 * }</pre>
 *
 * @param object always {@code "list"}
 * @param tags   the paralinguistic tags the model knows
 * @param pause  the pause syntax
 */
public record TextTags(String object, List<Tag> tags, PauseSyntax pause) {
    public TextTags {
        tags = List.copyOf(tags);
    }

    /** The listing of {@code tags} and {@code pause}. */
    public static TextTags of(List<Tag> tags, PauseSyntax pause) {
        return new TextTags("list", tags, pause);
    }

    /**
     * One paralinguistic tag.
     *
     * @param tag  as written in the text, e.g. {@code [laugh]}
     * @param kind {@code sound} (performed where it stands) or {@code delivery} (colours the speech around it)
     */
    public record Tag(String tag, String kind) {
    }

    /**
     * How to ask for silence.
     *
     * @param syntax          the form, e.g. {@code [pause:0.5s]}
     * @param examples        accepted spellings
     * @param maxSeconds      the longest single pause
     * @param maxTotalSeconds the most pause time in one input
     */
    public record PauseSyntax(String syntax, List<String> examples, @JsonProperty("max_seconds") double maxSeconds,
                              @JsonProperty("max_total_seconds") double maxTotalSeconds) {
        public PauseSyntax {
            examples = List.copyOf(examples);
        }
    }
}
