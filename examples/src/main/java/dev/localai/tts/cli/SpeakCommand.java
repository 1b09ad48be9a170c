package dev.localai.tts.cli;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.TtsOptions;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.core.voice.VoiceLibrary;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "speak", mixinStandardHelpOptions = true,
        description = "Speak text into an audio file (24 kHz mono), or to standard output with --out -. The text "
                + "comes from --text, --text-file or standard input (also --text -); the format from --format or the "
                + "file extension (WAV on standard output).")
final class SpeakCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--text", paramLabel = "TEXT", description = "The text to speak ('-': read standard input).")
    String text;

    @Option(names = "--text-file", paramLabel = "FILE", description = "Read the text from a UTF-8 file.")
    Path textFile;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "Audio file to write ('-': standard output).")
    Path out;

    @Option(names = "--format", paramLabel = "FMT",
            description = "mp3, opus, aac, flac, wav or pcm (default: from the --out extension; wav for --out -).")
    String format;

    @Option(names = "--progress", defaultValue = "auto", paramLabel = "MODE",
            description = "auto (a bar on a terminal, else a line per finished text chunk), bar, lines or off.")
    String progressMode;

    @Option(names = "--voice", paramLabel = "NAME|CLIP",
            description = "A voice of the library, or a reference clip file (> 5 s) to clone. Default: the model's "
                    + "built-in voice.")
    String voice;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (default 0). On one machine the same model, text, "
            + "voice, seed and settings give bit-identical audio, fp32 or bf16; other CPUs may differ in the last bits "
            + "(docs/numerics.md).")
    Long seed;

    @Option(names = "--speed", defaultValue = "1.0", paramLabel = "X",
            description = "Playback speed, pitch kept (0.25 to 4, default ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature in (0, 2] (default 0.8).")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Top-k sampling (default 1000).")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling in (0, 1] (default 0.95).")
    Double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Repetition penalty in [1, 10] "
            + "(default 1.2).")
    Double repetitionPenalty;

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "Cap on speech tokens per text chunk (25 tokens = 1 s of audio).")
    Integer maxTokens;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEV",
            description = "cpu, cuda, cuda:N or auto (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "T3 weights (and the S3Gen flow's on a "
            + "CPU with bf16): fp32, bf16, fp16 (GPU) or int8 (CPU: T3's matrices in int8, the rest fp32). "
            + "Default: bf16 on a GPU; on a CPU what a one-time measurement found fastest within the accuracy bound.")
    String dtype;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "CPU threads (default: automatic, one per core; measured at a machine's first starts where "
                    + "cores and logical CPUs differ; at most the CPU cores).")
    int threads;

    @Option(names = "--flow-steps", defaultValue = "0", paramLabel = "N",
            description = "Solver steps of the S3Gen flow, 1 to " + TtsOptions.MAX_FLOW_STEPS + " (default: the "
                    + "model's, 2 for Turbo; 1 is the distilled decoder's one-step mode, about 40%% less flow work, "
                    + "audio not identical to upstream's).")
    int flowSteps;

    @ParentCommand
    TtsCli root;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        AudioFormat fmt = format();
        ProgressDisplay display = new ProgressDisplay(err, ProgressDisplay.mode(progressMode, root.env));
        String input = text();
        SpeechRequest request = SpeechRequest.builder(input).voiceId(voice).speed(speed).seed(seed)
                .temperature(temperature).topK(topK).topP(topP).repetitionPenalty(repetitionPenalty)
                .maxTokens(maxTokens).build();
        Path voicesDir = model.voicesDir(root);
        checkVoice(voicesDir);
        long t0 = System.nanoTime();
        PrintStream progress = new PrintStream(new WriterOutputStream(err), true, StandardCharsets.UTF_8);
        TtsOptions.Builder b = TtsEngine.builder().model(model.resolve(root, progress)).allowDownload(false)
                .allowClipPaths(true).voicesDir(voicesDir).device(device).threads(threads)
                .cacheBytes(0).progress(progress).flowSteps(flowSteps);
        if (dtype != null) {
            b.dtype(dtype);
        }
        try (TtsEngine engine = b.build()) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            AudioClip clip;
            try {
                clip = engine.synthesize(request, display);
            } catch (EngineException e) {
                if (e.kind() == EngineException.Kind.UNKNOWN_VOICE) {
                    throw new IllegalArgumentException(e.getMessage() + " " + choices(engine.voices().stream()
                            .map(v -> v.builtIn() ? v.id() + " (built-in)" : v.id()).toList(), voicesDir), e);
                }
                throw e;
            }
            byte[] bytes = AudioEncoders.encode(fmt, clip.samples(), clip.sampleRate());
            write(bytes);
            SynthesisStats s = clip.stats();
            err.printf(Locale.ROOT, "wrote %s (%s, %d Hz mono): %.2f s of audio in %.2f s, RTF %.3f "
                            + "(%d text tokens, %d speech tokens; model loaded in %.1f s on %s)%n",
                    toStdout() ? "standard output" : out, fmt.wireName(), clip.sampleRate(), clip.durationSeconds(),
                    s.generationSeconds(), s.realTimeFactor(), s.inputTokens(), s.outputTokens(), loadSeconds,
                    engine.modelInfo().device());
            err.flush();
        }
        return 0;
    }

    private boolean toStdout() {
        return out.toString().equals("-");
    }

    /**
     * Refuses an unknown voice before the model is loaded (which takes a while), listing the voices there are. A
     * clip file, the built-in voice and anything that is not a library name are left to the engine.
     */
    private void checkVoice(Path voicesDir) {
        if (voice == null || TtsEngine.BUILTIN_VOICE.equals(voice) || !VoiceLibrary.isValidName(voice)
                || Files.isRegularFile(Path.of(voice))) {
            return;
        }
        List<String> names = Files.isDirectory(voicesDir)
                ? VoicesCommand.library(voicesDir).list().stream().map(VoiceLibrary.Voice::name).toList() : List.of();
        if (names.stream().noneMatch(n -> n.equalsIgnoreCase(voice))) {
            List<String> all = new ArrayList<>();
            all.add(TtsEngine.BUILTIN_VOICE + " (built-in)");
            all.addAll(names);
            throw new IllegalArgumentException("Unknown voice: '" + voice + "'. " + choices(all, voicesDir));
        }
    }

    private static String choices(List<String> voices, Path voicesDir) {
        return "Available voices: " + String.join(", ", voices) + " (library " + voicesDir
                + "); add one with 'tts voices add NAME clip.wav', or pass a clip file.";
    }

    private AudioFormat format() {
        if (format != null) {
            return AudioFormat.fromName(format).orElseThrow(() -> new IllegalArgumentException("unknown format '"
                    + format + "': use mp3, opus, aac, flac, wav or pcm"));
        }
        if (toStdout()) {
            return AudioFormat.WAV;
        }
        String name = out.getFileName() == null ? "" : out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        return AudioFormat.fromName(ext).orElseThrow(() -> new IllegalArgumentException("cannot tell the format "
                + "from '" + name + "': use a .mp3/.opus/.aac/.flac/.wav/.pcm name or --format"));
    }

    private String text() throws IOException {
        if (text != null && textFile != null) {
            throw new IllegalArgumentException("give either --text or --text-file, not both");
        }
        String t;
        if ("-".equals(text)) {
            t = new String(root.stdin.readAllBytes(), StandardCharsets.UTF_8);
        } else if (text != null) {
            t = text;
        } else if (textFile != null) {
            t = Files.readString(textFile, StandardCharsets.UTF_8);
        } else {
            t = new String(root.stdin.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (t.isBlank()) {
            throw new IllegalArgumentException("no text to speak: give --text, --text-file or pipe text on stdin");
        }
        return t.strip();
    }

    /** Writes the file atomically (a temporary file in the same directory, then a rename), or to stdout. */
    private void write(byte[] bytes) throws IOException {
        if (toStdout()) {
            root.stdout.write(bytes);
            root.stdout.flush();
            return;
        }
        Path abs = out.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".part");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
