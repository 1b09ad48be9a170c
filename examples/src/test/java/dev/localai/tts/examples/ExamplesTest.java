package dev.localai.tts.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.audio.WavWriter;
import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.testing.TestClips;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs each engine example's {@code main} on a tiny random checkpoint and checks the audio it leaves behind. */
class ExamplesTest {
    @TempDir
    static Path tmp;
    static String model;

    @BeforeAll
    static void tinyModel() {
        model = ModelSource.tiny(tmp.resolve("tiny"), 5).toString();
    }

    /**
     * An example run without its arguments, with {@code --model} lacking its value, or with {@code --help} says its
     * usage line, as a command-line tool does: no stack trace, status 2 (0 for help).
     */
    @Test
    void anExampleWithoutItsArgumentsSaysItsUsageNotAStackTrace() throws Exception {
        String[][] cases = {{"SpeakToFile"}, {"CloneVoice", "clip.wav"}, {"EmbedInApp", "--model"},
            {"SpeakToFile", "--help"}};
        for (String[] c : cases) {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "dev.localai.tts.examples." + c[0]));
            cmd.addAll(java.util.Arrays.asList(c).subList(1, c.length));
            Process p = new ProcessBuilder(cmd).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            boolean help = c[c.length - 1].equals("--help");
            String usage = help ? out : err;
            assertThat(p.exitValue()).as(String.join(" ", c) + ": " + err).isEqualTo(help ? 0 : 2);
            assertThat(usage.strip()).as(String.join(" ", c)).startsWith("usage: " + c[0] + " [--model M]")
                    .doesNotContain("\n");
            assertThat(err).doesNotContain("Exception").doesNotContain("\tat ");
        }
    }

    @Test
    void speakToFileWritesACompleteWav() throws Exception {
        Path out = tmp.resolve("hello.wav");
        SpeakToFile.main(new String[] {"--model", model, "Hello from the JVM.", out.toString()});
        assertCompleteWav(out);
    }

    @Test
    void speakToFileFollowsTheExtension() throws Exception {
        Path out = tmp.resolve("hello.flac");
        SpeakToFile.main(new String[] {"--model", model, "Hello.", out.toString()});
        assertThat(new String(Files.readAllBytes(out), 0, 4, StandardCharsets.US_ASCII)).isEqualTo("fLaC");
    }

    @Test
    void cloneVoiceSavesTheVoiceAndSpeaksWithIt() throws Exception {
        Path clip = tmp.resolve("My Clip.wav");
        WavWriter.writePcm16(clip, TestClips.speechLike(6.0), 24_000);
        Path library = tmp.resolve("voices");
        Path out = tmp.resolve("cloned.wav");

        CloneVoice.main(new String[] {"--model", model, clip.toString(), "A cloned voice.", out.toString(),
                library.toString()});

        assertCompleteWav(out);
        try (TtsEngine tts = TtsEngine.builder().model(model).voicesDir(library).build()) {
            assertThat(tts.voice("my-clip")).isPresent();
        }
        // a second run reuses the saved voice rather than failing on the taken name
        CloneVoice.main(new String[] {"--model", model, clip.toString(), "Again.", out.toString(), library.toString()});
        assertCompleteWav(out);
    }

    @Test
    void voiceNamesComeFromFileNames() {
        assertThat(CloneVoice.voiceName(Path.of("/clips/My Clip (2).WAV"))).isEqualTo("my-clip-2");
        assertThat(CloneVoice.voiceName(Path.of("__.wav"))).isEqualTo("cloned");
    }

    @Test
    void streamAndPlayWritesTheStreamWhenAskedTo() throws Exception {
        Path out = tmp.resolve("stream.wav");
        StreamAndPlay.main(new String[] {"--model", model, "First sentence. Second sentence.", "--out", out.toString()});
        assertCompleteWav(out);
    }

    @Test
    void embedInAppAnnouncesAsMp3() throws Exception {
        Path out = tmp.resolve("doorbell.mp3");
        EmbedInApp.main(new String[] {"--model", model, "the postman", out.toString()});
        byte[] mp3 = Files.readAllBytes(out);
        assertThat(mp3.length).isGreaterThan(100);
        boolean id3 = mp3[0] == 'I' && mp3[1] == 'D' && mp3[2] == '3';
        boolean frameSync = (mp3[0] & 0xFF) == 0xFF && (mp3[1] & 0xE0) == 0xE0;
        assertThat(id3 || frameSync).as("an MP3 stream").isTrue();
    }

    /** A RIFF/WAVE file whose size fields match its length and which holds some audio. */
    static void assertCompleteWav(Path file) throws Exception {
        byte[] b = Files.readAllBytes(file);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(b, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("RIFF");
        assertThat(new String(b, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WAVE");
        assertThat(le.getInt(4)).isEqualTo(b.length - 8);
        assertThat(new String(b, 36, 4, StandardCharsets.US_ASCII)).isEqualTo("data");
        assertThat(le.getInt(40)).isEqualTo(b.length - 44).isGreaterThan(0);
        assertThat(le.getInt(24)).isEqualTo(24_000);
    }
}
