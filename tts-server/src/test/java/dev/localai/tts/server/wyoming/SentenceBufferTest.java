package dev.localai.tts.server.wyoming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SentenceBufferTest {

    private static List<String> feed(SentenceBuffer b, String... chunks) {
        List<String> out = new ArrayList<>();
        for (String c : chunks) {
            String ready = b.add(c);
            if (!ready.isEmpty()) {
                out.add(ready);
            }
        }
        String rest = b.finish();
        if (!rest.isEmpty()) {
            out.add(rest);
        }
        return out;
    }

    @Test
    void aSentenceIsGivenBackOnceTheNextHasBegunAndTheRestAtTheEnd() {
        assertThat(feed(new SentenceBuffer(1000), "Hel", "lo the", "re. How", " are you", "? Fine")).containsExactly(
                "Hello there.", "How are you?", "Fine");
    }

    @Test
    void spacesBetweenChunksAreKept() {
        assertThat(feed(new SentenceBuffer(1000), "One ", "two ", "three. ", "Four", " five.")).containsExactly(
                "One two three.", "Four five.");
    }

    @Test
    void severalSentencesInOneChunkComeTogetherAndAbbreviationsDoNotSplit() {
        assertThat(feed(new SentenceBuffer(1000), "Mr. Smith is here. So is Dr. Who! And", " then?")).containsExactly(
                "Mr. Smith is here. So is Dr. Who!", "And then?");
    }

    @Test
    void tagsAreNeverCutAndLineBreaksEndSentences() {
        assertThat(feed(new SentenceBuffer(1000), "Ha [laugh. not an end] ok\nNext")).containsExactly(
                "Ha [laugh. not an end] ok", "Next");
    }

    @Test
    void anEndlessSentenceIsGivenBackAtTheLimitAndAnOversizedChunkIsRefused() {
        SentenceBuffer b = new SentenceBuffer(30);
        assertThat(b.add("no full stop in this ")).isEmpty();
        assertThat(b.add("text at all")).isEqualTo("no full stop in this text at all");
        assertThat(b.finish()).isEmpty();
        assertThatThrownBy(() -> b.add("x".repeat(31))).isInstanceOf(WyomingException.class)
                .satisfies(e -> assertThat(((WyomingException) e).code()).isEqualTo("text_too_long"));
    }

    @Test
    void blankInputGivesNothing() {
        assertThat(feed(new SentenceBuffer(100), "", "  ", "\n")).isEmpty();
    }
}
