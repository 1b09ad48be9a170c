package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.engine.api.SynthesisProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code tts speak} draws while it generates. */
class ProgressDisplayTest {
    private final StringWriter text = new StringWriter();

    private ProgressDisplay display(ProgressDisplay.Mode mode) {
        return new ProgressDisplay(new PrintWriter(text, true), mode);
    }

    private static SynthesisProgress p(int done, int chunks, double audio, int elapsedS, boolean finished) {
        return new SynthesisProgress(done, chunks, audio, Duration.ofSeconds(elapsedS), finished);
    }

    @Test
    void aBarRedrawsInPlaceWithChunksAudioElapsedAndEta() {
        ProgressDisplay d = display(ProgressDisplay.Mode.BAR);
        d.accept(p(0, 4, 1.5, 3, false));
        d.accept(p(1, 4, 9.25, 10, false));
        d.accept(p(4, 4, 40.0, 41, true));
        assertThat(text.toString()).isEqualTo(
                "\r[------------------------] 0/4 chunks  1.5 s of audio  0:03 elapsed  ETA --:--"
                + "\r[######------------------] 1/4 chunks  9.3 s of audio  0:10 elapsed  ETA 0:30 "
                + "\r[########################] 4/4 chunks  40.0 s of audio  0:41 elapsed" + " ".repeat(10)
                + System.lineSeparator());
    }

    @Test
    void linesComeOncePerFinishedChunkOfASplitText() {
        ProgressDisplay d = display(ProgressDisplay.Mode.LINES);
        d.accept(p(0, 3, 1, 2, false));
        d.accept(p(1, 3, 5, 6, false));
        d.accept(p(1, 3, 6, 7, false));
        d.accept(p(3, 3, 14, 20, false));
        d.accept(p(3, 3, 15, 21, true));
        String nl = System.lineSeparator();
        assertThat(text.toString()).isEqualTo(
                "tts: 1/3 chunks, 5.0 s of audio, 0:06 elapsed, about 0:12 left" + nl
                + "tts: 3/3 chunks, 14.0 s of audio, 0:20 elapsed" + nl);

        StringWriter single = new StringWriter();
        ProgressDisplay one = new ProgressDisplay(new PrintWriter(single, true), ProgressDisplay.Mode.LINES);
        one.accept(p(1, 1, 2, 3, false));
        one.accept(p(1, 1, 2, 3, true));
        assertThat(single.toString()).as("a short text: the summary line says it all").isEmpty();
    }

    @Test
    void theModeFollowsTheOptionAndTheTerminal() {
        assertThat(ProgressDisplay.mode("auto", Map.of("TTS_STDERR_TERMINAL", "1"))).isEqualTo(ProgressDisplay.Mode.BAR);
        assertThat(ProgressDisplay.mode("auto", Map.of("TTS_STDERR_TERMINAL", "0")))
                .isEqualTo(ProgressDisplay.Mode.LINES);
        assertThat(ProgressDisplay.mode("lines", Map.of("TTS_STDERR_TERMINAL", "1")))
                .isEqualTo(ProgressDisplay.Mode.LINES);
        assertThat(ProgressDisplay.mode("OFF", Map.of())).isEqualTo(ProgressDisplay.Mode.OFF);
        assertThatThrownBy(() -> ProgressDisplay.mode("fancy", Map.of()))
                .hasMessageContaining("auto, bar, lines or off");
    }

    @Test
    void clockIsMinutesAndSeconds() {
        assertThat(ProgressDisplay.clock(Duration.ofMillis(59_400))).isEqualTo("0:59");
        assertThat(ProgressDisplay.clock(Duration.ofSeconds(125))).isEqualTo("2:05");
        assertThat(ProgressDisplay.clock(Duration.ofSeconds(3725))).isEqualTo("1:02:05");
    }
}
