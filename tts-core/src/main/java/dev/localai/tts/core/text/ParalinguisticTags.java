package dev.localai.tts.core.text;

import java.util.List;
import java.util.stream.Stream;

/**
 * The 19 paralinguistic tags Chatterbox Turbo's tokenizer knows as whole tokens ({@code added_tokens.json}): written
 * in the text where the sound or the manner should be, e.g. {@code "That was close [laugh] really close."}. Sounds
 * are performed at that point; delivery tags colour the speech around them. Other bracketed words are read as text.
 */
public final class ParalinguisticTags {
    /** Sounds performed where the tag stands. */
    public static final List<String> SOUNDS = List.of("[laugh]", "[chuckle]", "[gasp]", "[cough]", "[sigh]",
            "[groan]", "[sniff]", "[shush]", "[clear throat]");

    /** Tags that colour the delivery of the speech around them. */
    public static final List<String> DELIVERY = List.of("[whispering]", "[angry]", "[fear]", "[surprised]",
            "[crying]", "[happy]", "[sarcastic]", "[dramatic]", "[narration]", "[advertisement]");

    /** Every tag: {@link #SOUNDS}, then {@link #DELIVERY}. */
    public static final List<String> ALL = Stream.concat(SOUNDS.stream(), DELIVERY.stream()).toList();

    private ParalinguisticTags() {
    }
}
