package dev.localai.tts.core.engine.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The small conveniences of the public API, without an engine. */
class ApiSurfaceTest {

    @Test
    void seedTakesAnIntALongOrNull() {
        assertThat(SpeechRequest.builder("x").seed(42).build().seed()).isEqualTo(42L);
        assertThat(SpeechRequest.builder("x").seed(42L).build().seed()).isEqualTo(42L);
        assertThat(SpeechRequest.builder("x").seed(Long.valueOf(7)).build().seed()).isEqualTo(7L);
        assertThat(SpeechRequest.builder("x").seed(42).seed((Long) null).build().seed()).isNull();
    }

    @Test
    void retryAfterIsAnOptionalNeverNull() {
        assertThat(EngineException.busy("full", Duration.ofSeconds(2)).retryAfter()).contains(Duration.ofSeconds(2));
        assertThat(EngineException.notReady("loading").retryAfter()).isEmpty();
        assertThat(new EngineException(EngineException.Kind.BUSY, "full", null, null).retryAfter()).isEmpty();
    }

    @Test
    void progressFractionAndEtaComeFromTheFinishedChunks() {
        SynthesisStats stats = new SynthesisStats(10, 100, 4.0, 6_000_000_000L, 1, 0, 2, 5);
        SynthesisProgress p = SynthesisProgress.of(stats, false);
        assertThat(p.chunksDone()).isEqualTo(2);
        assertThat(p.chunks()).isEqualTo(5);
        assertThat(p.audioSeconds()).isEqualTo(4.0);
        assertThat(p.fraction()).isEqualTo(0.4);
        // 2 chunks took 6 s: 3 more take 9 s
        assertThat(p.eta()).contains(Duration.ofSeconds(9));

        SynthesisProgress first = SynthesisProgress.of(new SynthesisStats(1, 1, 0.5, 1_000_000, 1, 0, 0, 5), false);
        assertThat(first.eta()).as("nothing finished yet: no estimate").isEmpty();
        assertThat(first.fraction()).isZero();

        SynthesisProgress cached = SynthesisProgress.of(new SynthesisStats(1, 1, 2.0, 5, 5, 0), false);
        assertThat(cached.chunks()).isZero();
        assertThat(cached.eta()).isEmpty();

        SynthesisProgress done = SynthesisProgress.of(stats, true);
        assertThat(done.chunksDone()).isEqualTo(5);
        assertThat(done.fraction()).isEqualTo(1.0);
        assertThat(done.eta()).contains(Duration.ZERO);
    }

    @Test
    void theDefaultVoiceLibraryFollowsXdg() {
        Path home = Path.of("/home/someone");
        assertThat(VoiceLibraryDirs.defaultDir(Map.of("XDG_DATA_HOME", "/data/xdg"), home))
                .isEqualTo(Path.of("/data/xdg/localai-tts/voices"));
        assertThat(VoiceLibraryDirs.defaultDir(Map.of(), home))
                .isEqualTo(Path.of("/home/someone/.local/share/localai-tts/voices"));
        assertThat(VoiceLibraryDirs.defaultDir(Map.of("XDG_DATA_HOME", "relative/dir"), home))
                .as("a relative XDG_DATA_HOME is ignored, as the XDG spec says")
                .isEqualTo(Path.of("/home/someone/.local/share/localai-tts/voices"));
    }
}
