package dev.localai.tts.examples;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The engine inside an application: one {@link SpeechSynthesizer}, built once at start-up and shared by every thread,
 * handed to the part of the app that needs speech. Here that part is a doorbell that announces visitors.
 *
 * <pre>
 * ./examples/run EmbedInApp "the postman"          # writes doorbell.mp3
 * </pre>
 */
public final class EmbedInApp {
    private EmbedInApp() {}

    /** The application's own code: it knows nothing about models, only that it can ask for speech. */
    static final class Doorbell {
        private final SpeechSynthesizer tts;

        Doorbell(SpeechSynthesizer tts) {
            this.tts = tts;
        }

        /** An MP3 announcement of a visitor, ready to send to a speaker or a phone. */
        byte[] announce(String visitor) {
            AudioClip clip = tts.synthesize(SpeechRequest.builder("Someone is at the door: " + visitor + ".")
                    .speed(1.1)
                    .build());
            return AudioEncoders.encode(AudioFormat.MP3, clip.samples(), clip.sampleRate());
        }
    }

    public static void main(String[] args) throws Exception {
        ExampleArgs a = ExampleArgs.parse(args, "EmbedInApp [--model M] VISITOR [OUT_FILE]", 1);
        Path out = Path.of(a.positional(1, "doorbell.mp3"));

        // The few lines an app needs: build the engine once (it loads the model), use it anywhere, close it on exit.
        try (TtsEngine tts = TtsEngine.builder().model(a.model()).warmUp(true).build()) {
            Doorbell doorbell = new Doorbell(tts);
            Files.write(out, doorbell.announce(a.positional(0)));
            System.out.println("announcement written to " + out + " by " + tts.modelInfo());
        }
    }
}
