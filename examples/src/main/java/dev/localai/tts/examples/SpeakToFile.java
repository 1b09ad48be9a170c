package dev.localai.tts.examples;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Speaks one sentence into an audio file; the format follows the file's extension (wav, mp3, flac, opus, aac, pcm).
 *
 * <pre>
 * ./examples/run SpeakToFile "Hello from the JVM." hello.wav
 * ./examples/run SpeakToFile --model tiny "Hello." /tmp/noise.wav      # tiny random checkpoint: noise, but fast
 * </pre>
 */
public final class SpeakToFile {
    private SpeakToFile() {}

    public static void main(String[] args) throws Exception {
        ExampleArgs a = ExampleArgs.parse(args, "SpeakToFile [--model M] TEXT OUT_FILE", 2);
        String text = a.positional(0);
        Path out = Path.of(a.positional(1));
        AudioFormat format = ExampleArgs.formatOf(out);

        try (TtsEngine tts = TtsEngine.builder().model(a.model()).build()) {
            AudioClip clip = tts.synthesize(SpeechRequest.of(text));
            Files.write(out, AudioEncoders.encode(format, clip.samples(), clip.sampleRate()));
            System.out.printf("wrote %s: %.2f s of audio in %.2f s (RTF %.2f)%n", out, clip.durationSeconds(),
                    clip.stats().generationSeconds(), clip.stats().realTimeFactor());
        }
    }
}
