package dev.localai.tts.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class SentenceSplitterTest {

    @Test
    void splitsOnEndersAndKeepsTagsIntact() {
        assertThat(SentenceSplitter.sentences("Hello there! [laugh] How are you? I'm fine. [clear throat] Really."))
                .containsExactly("Hello there!", "[laugh] How are you?", "I'm fine.", "[clear throat] Really.");
    }

    @Test
    void doesNotSplitInsideTagsDecimalsAbbreviationsOrInitials() {
        assertThat(SentenceSplitter.sentences("It costs $3.50 today. Mr. Smith met J. R. Tolkien, e.g. at noon. Done"))
                .containsExactly("It costs $3.50 today.", "Mr. Smith met J. R. Tolkien, e.g. at noon.", "Done");
        assertThat(SentenceSplitter.sentences("Odd [tag. with dot] inside. Next"))
                .containsExactly("Odd [tag. with dot] inside.", "Next");
    }

    @Test
    void closingQuotesStayWithTheSentenceAndNewlinesSplit() {
        assertThat(SentenceSplitter.sentences("He said \"stop!\" Then left...\nNew line here\n\n  "))
                .containsExactly("He said \"stop!\"", "Then left...", "New line here");
        assertThat(SentenceSplitter.sentences("日本語です。次の文！")).containsExactly("日本語です。", "次の文！");
        assertThat(SentenceSplitter.sentences("")).isEmpty();
    }

    @Test
    void chunksPackSentencesAndCutLongOnesOutsideTags() {
        String text = "One. Two. Three is a bit longer. Four.";
        assertThat(SentenceSplitter.chunks(text, 20)).containsExactly("One. Two.", "Three is a bit", "longer. Four.");
        assertThat(SentenceSplitter.chunks(text, 1000)).containsExactly(text);
        String withTag = "aaaa bbbb [clear throat] cccc dddd";
        List<String> parts = SentenceSplitter.chunks(withTag, 18);
        assertThat(parts).allSatisfy(p -> assertThat(p.chars().filter(c -> c == '[').count())
                .isEqualTo(p.chars().filter(c -> c == ']').count()));
        assertThat(String.join(" ", parts)).isEqualTo(withTag);
        assertThat(SentenceSplitter.chunks("first part, second part, third part.", 26))
                .containsExactly("first part, second part,", "third part.");
    }
}
