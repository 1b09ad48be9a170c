package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoder;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Using the SDK" example, as written there (only the model and the paths differ). */
class SdkExampleTest {
    @TempDir
    Path tmp;

    @Test
    void readmeExampleRuns() throws Exception {
        String model = ModelSource.tiny(tmp.resolve("tiny"), 3).toString();
        Path mp3 = tmp.resolve("hello.mp3");
        Path opus = tmp.resolve("stream.opus");
        try (TtsEngine tts = TtsEngine.builder().model(model).build()) {
            AudioClip clip = tts.synthesize(SpeechRequest.builder("Hello from the JVM.").seed(42).maxTokens(20).build());
            Files.write(mp3, AudioEncoders.encode(AudioFormat.MP3, clip.samples(), clip.sampleRate()));
            try (SpeechStream s = tts.stream(SpeechRequest.builder("Streaming starts after the first few words.")
                         .maxTokens(40).build());
                 OutputStream out = Files.newOutputStream(opus);
                 AudioEncoder enc = AudioEncoders.streaming(AudioFormat.OPUS, out, 24_000)) {
                while (s.hasNext()) enc.write(s.next().samples());
                enc.finish();
            }
        }
        assertThat(Files.size(mp3)).isGreaterThan(100);
        assertThat(Files.readAllBytes(opus)).startsWith((byte) 'O', (byte) 'g', (byte) 'g', (byte) 'S');
    }
}
