package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.TensorArrays;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tts speak} on the tiny golden checkpoint (random weights: it speaks noise, through every stage). */
class SpeakCommandTest {
    @TempDir
    Path tmp;

    private Cli.Result speak(Map<String, String> env, String stdin, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "speak";
        System.arraycopy(args, 0, all, 1, args.length);
        return Cli.run(tmp.resolve("home"), env, stdin, all);
    }

    /** A WAV the JDK reads as 24 kHz mono 16-bit PCM; returns its frame count. */
    static long assertWav24kMono(Path f) throws IOException {
        try {
            AudioFileFormat a = AudioSystem.getAudioFileFormat(f.toFile());
            assertThat(a.getType()).isEqualTo(AudioFileFormat.Type.WAVE);
            assertThat(a.getFormat().getSampleRate()).isEqualTo(24000f);
            assertThat(a.getFormat().getChannels()).isEqualTo(1);
            assertThat(a.getFormat().getSampleSizeInBits()).isEqualTo(16);
            assertThat(a.getFrameLength()).isPositive();
            assertThat(Files.size(f)).isEqualTo(44 + 2L * a.getFrameLength());
            return a.getFrameLength();
        } catch (UnsupportedAudioFileException e) {
            throw new AssertionError(f + " is not a WAV file", e);
        }
    }

    /** A 5.2 s reference clip (the golden's 16 kHz test signal) as a WAV file. */
    static Path referenceClip(Path dir) throws IOException {
        try (SafeTensors g = Golden.load("ve.safetensors"); Tensor t = g.tensor("in.wav16k")) {
            return Files.write(dir.resolve("ref.wav"), AudioEncoders.encode(AudioFormat.WAV, TensorArrays.floats(t), 16000));
        }
    }

    @Test
    void speaksTextIntoA24kHzMonoWavAndReportsTheFigures() throws IOException {
        Path out = tmp.resolve("out/hello.wav");
        Cli.Result r = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hello from the JVM.",
                "--out", out.toString(), "--max-tokens", "25", "--device", "cpu", "--threads", "2");
        assertThat(r.code()).as(r.err()).isZero();
        long frames = assertWav24kMono(out);
        // at most 1 + 25 tokens + 3 silence = 58 mel frames of 480 samples, less any trimmed silence
        assertThat(frames).isLessThanOrEqualTo(58L * 480);
        assertThat(r.err()).contains("wrote " + out).contains("s of audio in").contains("RTF")
                .contains("24000 Hz mono");
    }

    @Test
    void readsTextFromStdinOrAFileAndTheSameSeedGivesTheSameAudio() throws IOException {
        Path a = tmp.resolve("a.wav");
        Path b = tmp.resolve("b.wav");
        Path text = Files.writeString(tmp.resolve("t.txt"), "Same words.\n");
        Cli.Result r1 = speak(Map.of(), "Same words.", "--model", TinyModel.dir().toString(), "--out", a.toString(),
                "--max-tokens", "20", "--seed", "5", "--device", "cpu");
        Cli.Result r2 = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text-file", text.toString(),
                "--out", b.toString(), "--max-tokens", "20", "--seed", "5", "--device", "cpu");
        assertThat(r1.code()).as(r1.err()).isZero();
        assertThat(r2.code()).as(r2.err()).isZero();
        assertWav24kMono(a);
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
    }

    @Test
    void outDashWritesAWavToStandardOutputAndTextDashReadsStandardInput() throws Exception {
        Cli.Result r = speak(Map.of(), "Words from a pipe.", "--model", TinyModel.dir().toString(), "--text", "-",
                "--out", "-", "--max-tokens", "20", "--seed", "5", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).as("no text mixed into the audio").isEmpty();
        assertThat(tmp.resolve("-")).doesNotExist();
        AudioInputStream wav = AudioSystem.getAudioInputStream(new ByteArrayInputStream(r.stdout()));
        assertThat(wav.getFormat().getSampleRate()).isEqualTo(24000f);
        assertThat(wav.getFormat().getChannels()).isEqualTo(1);
        assertThat(wav.getFrameLength()).isPositive();
        assertThat(r.stdout().length).isEqualTo(44 + 2 * (int) wav.getFrameLength());
        assertThat(r.err()).contains("wrote standard output (wav, 24000 Hz mono)");

        // the same words from a file give the same audio, and --format picks another encoding for stdout
        Path f = tmp.resolve("same.wav");
        Cli.Result file = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Words from a pipe.",
                "--out", f.toString(), "--max-tokens", "20", "--seed", "5", "--device", "cpu");
        assertThat(file.code()).as(file.err()).isZero();
        assertThat(Files.readAllBytes(f)).isEqualTo(r.stdout());
        Cli.Result pcm = speak(Map.of(), "Words from a pipe.", "--model", TinyModel.dir().toString(), "--out", "-",
                "--format", "pcm", "--max-tokens", "20", "--seed", "5", "--device", "cpu");
        assertThat(pcm.code()).as(pcm.err()).isZero();
        assertThat(pcm.stdout()).hasSize(r.stdout().length - 44);
    }

    @Test
    void progressIsABarOnATerminalAndLinesOtherwise() {
        // more than the engine's 300-character chunk: the text is spoken in several chunks
        String text = ("This sentence is one of several that make the text long enough to be split. ").repeat(6);
        Cli.Result lines = speak(Map.of("TTS_STDERR_TERMINAL", "0"), "", "--model", TinyModel.dir().toString(),
                "--text", text, "--out", tmp.resolve("l.wav").toString(), "--max-tokens", "5", "--device", "cpu");
        assertThat(lines.code()).as(lines.err()).isZero();
        // (which chunk-finished lines the reader sees depends on timing; ProgressDisplayTest pins the format)
        assertThat(lines.err()).doesNotContain("\r").contains("wrote " + tmp.resolve("l.wav"));

        Cli.Result bar = speak(Map.of("TTS_STDERR_TERMINAL", "1"), "", "--model", TinyModel.dir().toString(),
                "--text", text, "--out", tmp.resolve("b.wav").toString(), "--max-tokens", "5", "--device", "cpu");
        assertThat(bar.code()).as(bar.err()).isZero();
        assertThat(bar.err()).contains("\r[########################] 2/2 chunks").contains("s of audio");

        Cli.Result off = speak(Map.of("TTS_STDERR_TERMINAL", "1"), "", "--model", TinyModel.dir().toString(),
                "--text", text, "--out", tmp.resolve("o.wav").toString(), "--max-tokens", "5", "--device", "cpu",
                "--progress", "off");
        assertThat(off.code()).as(off.err()).isZero();
        assertThat(off.err()).doesNotContain("chunks");

        Cli.Result short1 = speak(Map.of("TTS_STDERR_TERMINAL", "0"), "", "--model", TinyModel.dir().toString(),
                "--text", "Short.", "--out", tmp.resolve("s.wav").toString(), "--max-tokens", "5", "--device", "cpu");
        assertThat(short1.err()).as("one chunk: only the summary line").doesNotContain("chunks");
    }

    @Test
    void formatComesFromTheExtensionOrTheOption() throws IOException {
        Path pcm = tmp.resolve("x.raw");
        Cli.Result r = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out",
                pcm.toString(), "--format", "pcm", "--max-tokens", "10", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.size(pcm) % 2).isZero();
        assertThat(Files.size(pcm)).isPositive();

        Cli.Result bad = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out",
                tmp.resolve("x.xyz").toString());
        assertThat(bad.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(bad.err()).contains("cannot tell the format from 'x.xyz'").doesNotContain("\tat ");
    }

    @Test
    void offlineWithoutTheModelIsAOneLineErrorWithExitCode3() {
        Map<String, String> env = Map.of("HF_HOME", tmp.resolve("hf").toString(), "HF_HUB_OFFLINE", "1");
        Cli.Result r = speak(env, "", "--text", "Hello.", "--out", tmp.resolve("h.wav").toString());
        assertThat(r.code()).isEqualTo(TtsCli.EXIT_HUB_UNAVAILABLE);
        assertThat(r.err()).startsWith("tts: error: offline mode").contains("ResembleAI/chatterbox-turbo")
                .doesNotContain("\tat ");
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(tmp.resolve("h.wav")).doesNotExist();

        Cli.Result flag = speak(Map.of("HF_HOME", tmp.resolve("hf").toString()), "", "--offline", "--text", "Hi.",
                "--out", tmp.resolve("h.wav").toString());
        assertThat(flag.code()).isEqualTo(TtsCli.EXIT_HUB_UNAVAILABLE);
    }

    @Test
    void badRequestsAreClearErrors() {
        Cli.Result noText = speak(Map.of(), "  ", "--model", TinyModel.dir().toString(), "--out",
                tmp.resolve("h.wav").toString());
        assertThat(noText.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(noText.err()).contains("no text to speak");

        Cli.Result voice = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out",
                tmp.resolve("h.wav").toString(), "--voice", "nobody", "--voices", tmp.resolve("v").toString());
        assertThat(voice.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(voice.err()).contains("Unknown voice: 'nobody'").contains("Available voices: default (built-in)")
                .doesNotContain("\tat ");
        assertThat(voice.err().strip().lines()).hasSize(1);

        Cli.Result speed = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out",
                tmp.resolve("h.wav").toString(), "--speed", "9");
        assertThat(speed.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(speed.err()).contains("speed must be between");

        int cores = Runtime.getRuntime().availableProcessors();
        Cli.Result threads = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out",
                tmp.resolve("h.wav").toString(), "--threads", String.valueOf(cores + 1));
        assertThat(threads.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(threads.err()).contains("threads must be 0 (automatic) or from 1 to " + cores)
                .doesNotContain("\tat ");
        assertThat(threads.err().strip().lines()).hasSize(1);
        assertThat(tmp.resolve("h.wav")).doesNotExist();

        // the golden checkpoint's text table (1024) is smaller than its GPT-2 tokenizer: one clear line, no trace
        Cli.Result golden = speak(Map.of(), "", "--model", Golden.ckpt().toString(), "--text", "Hello there.",
                "--out", tmp.resolve("g.wav").toString(), "--device", "cpu");
        assertThat(golden.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(golden.err()).contains("text token ids must lie in [0, 1024)").doesNotContain("\tat ");

        Cli.Result model = speak(Map.of(), "", "--model", "./no/such/dir", "--text", "Hi.", "--out",
                tmp.resolve("h.wav").toString());
        assertThat(model.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(model.err()).contains("is neither a directory");
    }

    @Test
    void clonesAVoiceFromAClipPath() throws IOException {
        Path clip = referenceClip(tmp);
        Path out = tmp.resolve("cloned.wav");
        Cli.Result r = speak(Map.of(), "", "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out",
                out.toString(), "--voice", clip.toString(), "--voices", tmp.resolve("v").toString(), "--max-tokens",
                "10", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        assertWav24kMono(out);
    }
}
