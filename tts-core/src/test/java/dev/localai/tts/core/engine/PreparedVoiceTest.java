package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Device;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreparedVoiceTest {
    @TempDir
    Path tmp;

    @Test
    void tensorsLiveUntilTheLastReferenceIsReleased() {
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 3);
        try (ChatterboxTurbo m = ChatterboxTurbo.fromPretrained(dir, Device.cpu(), org.bytedeco.pytorch.global.torch.ScalarType.Float)) {
            PreparedVoice v = PreparedVoice.of("default", m.builtinVoice(), Device.cpu());
            assertThat(v.acquire()).isTrue(); // a request
            v.close(); // the voice is deleted while the request runs
            assertThat(v.promptToken.isNull()).isFalse();
            assertThat(v.promptTokens()).isPositive();
            v.release(); // the request ends
            assertThat(v.promptToken.isNull()).isTrue();
            assertThat(v.t3Cond.speakerEmb().isNull()).isTrue();
            assertThat(v.acquire()).as("a freed voice cannot be taken again").isFalse();
        }
    }
}
