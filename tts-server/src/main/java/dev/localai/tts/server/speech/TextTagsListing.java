package dev.localai.tts.server.speech;

import dev.localai.tts.api.TextTags;
import dev.localai.tts.core.text.ParalinguisticTags;
import dev.localai.tts.core.text.Pauses;
import java.util.List;
import java.util.stream.Stream;

/** What {@code GET /v1/audio/tags} answers: the model's paralinguistic tags and the pause syntax. */
final class TextTagsListing {
    static final TextTags TAGS = TextTags.of(
            Stream.concat(ParalinguisticTags.SOUNDS.stream().map(t -> new TextTags.Tag(t, "sound")),
                    ParalinguisticTags.DELIVERY.stream().map(t -> new TextTags.Tag(t, "delivery"))).toList(),
            new TextTags.PauseSyntax(Pauses.SYNTAX, List.of("[pause:0.5s]", "[pause:500ms]", "[pause:2]"),
                    Pauses.MAX_SECONDS, Pauses.MAX_TOTAL_SECONDS));

    private TextTagsListing() {
    }
}
