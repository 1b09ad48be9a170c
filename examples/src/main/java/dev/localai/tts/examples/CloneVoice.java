package dev.localai.tts.examples;

import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.VoiceInfo;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Clones a voice from a reference clip (more than 5 s of one speaker, any format FFmpeg reads), saves it in a voice
 * library under a name, and speaks with it.
 *
 * <pre>
 * ./examples/run CloneVoice my-clip.wav "This is my cloned voice." cloned.wav
 * </pre>
 *
 * The library lives in {@code ./voices} unless a fourth argument names another directory; a second run with the
 * same library reuses the saved voice instead of cloning again.
 */
public final class CloneVoice {
    private CloneVoice() {}

    public static void main(String[] args) throws Exception {
        ExampleArgs a = ExampleArgs.parse(args, "CloneVoice [--model M] CLIP TEXT OUT_FILE [VOICES_DIR]", 3);
        Path clip = Path.of(a.positional(0));
        String text = a.positional(1);
        Path out = Path.of(a.positional(2));
        Path library = Path.of(a.positional(3, "voices"));
        String name = voiceName(clip);

        try (TtsEngine tts = TtsEngine.builder().model(a.model()).voicesDir(library).build()) {
            VoiceInfo voice = tts.voice(name).orElseGet(() -> tts.addVoice(name, readClip(clip)));
            AudioClip speech = tts.synthesize(SpeechRequest.builder(text).voiceId(voice.id()).build());
            Files.write(out, AudioEncoders.encode(ExampleArgs.formatOf(out), speech.samples(), speech.sampleRate()));
            System.out.printf("voice '%s' (library %s) spoke %.2f s into %s%n", voice.id(), library,
                    speech.durationSeconds(), out);
        }
    }

    /** A library name from the clip's file name: {@code My Clip.wav} becomes {@code my-clip}. */
    static String voiceName(Path clip) {
        String base = clip.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        String name = base.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_-]+", "-").replaceAll("^[_-]+|[_-]+$", "");
        return name.isEmpty() ? "cloned" : name.substring(0, Math.min(64, name.length()));
    }

    private static byte[] readClip(Path clip) {
        try {
            return Files.readAllBytes(clip);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
