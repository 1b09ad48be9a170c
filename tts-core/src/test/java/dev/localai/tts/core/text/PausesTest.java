package dev.localai.tts.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.text.Pauses.Pause;
import dev.localai.tts.core.text.Pauses.Speech;
import org.junit.jupiter.api.Test;

class PausesTest {
    @Test
    void splitsTheTextAtEachPauseTag() {
        assertThat(Pauses.split("First part. [pause:0.5s] Second part.")).containsExactly(
                new Speech("First part."), new Pause(0.5), new Speech("Second part."));
        assertThat(Pauses.split("[pause:500ms]Go! [PAUSE: 2 s ] [pause:1.]")).containsExactly(
                new Pause(0.5), new Speech("Go!"), new Pause(2.0), new Pause(1.0));
        assertThat(Pauses.split("[pause:.25]")).containsExactly(new Pause(0.25));
        assertThat(new Pause(0.5).samples(24_000)).isEqualTo(12_000);
    }

    @Test
    void textWithoutPausesIsOnePieceAndOtherTagsStayInIt() {
        assertThat(Pauses.split("  Hello [laugh] there. ")).containsExactly(new Speech("Hello [laugh] there."));
        assertThat(Pauses.split("   ")).isEmpty();
        assertThat(Pauses.mentionsPause("a [pausing] word")).isFalse();
    }

    @Test
    void aMalformedOrTooLongPauseIsAClearError() {
        assertThatThrownBy(() -> Pauses.split("a [pause:abc] b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[pause:abc]").hasMessageContaining("[pause:0.5s]");
        assertThatThrownBy(() -> Pauses.split("a [pause:-1s] b")).hasMessageContaining("invalid pause tag");
        assertThatThrownBy(() -> Pauses.split("a [pause:10.5s] b")).hasMessageContaining("too long")
                .hasMessageContaining("10 s");
        assertThatThrownBy(() -> Pauses.split("a [pause:20000ms] b")).hasMessageContaining("too long");
        assertThatThrownBy(() -> Pauses.split("a [pause:0.5s b")).hasMessageContaining("unclosed pause tag");
        assertThatThrownBy(() -> Pauses.split("[pause:10s]".repeat(7))).hasMessageContaining("at most 60 s");
        assertThat(Pauses.split("[pause:10s]")).containsExactly(new Pause(10.0));
    }

    @Test
    void aRequestWithABadPauseTagIsRefusedWhenBuilt() {
        assertThatThrownBy(() -> SpeechRequest.of("Wait [pause:11s] for it."))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too long");
        assertThat(SpeechRequest.of("Wait [pause:1s] for it.").text()).contains("[pause:1s]");
    }
}
