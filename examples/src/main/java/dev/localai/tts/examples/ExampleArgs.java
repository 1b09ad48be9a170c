package dev.localai.tts.examples;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.runtime.JvmArchive;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tiny command line shared by the examples: an optional {@code --model M} (a directory, a Hugging Face repo id or
 * {@code tiny}; default the {@code TTS_MODEL} environment variable, else the official model) and positional
 * arguments. Kept apart so each example shows only the engine calls.
 */
final class ExampleArgs {
    private final String model;
    private final List<String> positional;

    private ExampleArgs(String model, List<String> positional) {
        this.model = model;
        this.positional = positional;
    }

    /**
     * Parses {@code args}. With {@code -h} or {@code --help} it prints the usage line and exits (status 0); with fewer
     * than {@code required} positionals, or {@code --model} without a value, it prints the usage line on stderr and
     * exits with status 2, as a command-line tool does, rather than end in a stack trace.
     */
    static ExampleArgs parse(String[] args, String usage, int required) {
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help")) {
                exitWithUsage(usage, 0);
            }
        }
        String env = System.getenv("TTS_MODEL");
        String model = env == null || env.isBlank() ? ModelSource.DEFAULT : env;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].equals("--model")) {
                rest.add(args[i]);
            } else if (i + 1 < args.length) {
                model = args[++i];
            } else {
                exitWithUsage(usage, 2); // a --model without its value
            }
        }
        if (rest.size() < required) {
            exitWithUsage(usage, 2);
        }
        return new ExampleArgs(model, rest);
    }

    /**
     * Prints the usage line (on stdout for help, status 0; else on stderr) and exits, marking this run's JVM archive
     * to be discarded: a run that did no work would leave one that holds little.
     */
    private static void exitWithUsage(String usage, int status) {
        (status == 0 ? System.out : System.err).println("usage: " + usage);
        JvmArchive.discard();
        System.exit(status);
    }

    String model() {
        return model;
    }

    String positional(int i) {
        return positional.get(i);
    }

    /** The positional argument {@code i}, or {@code fallback} when absent. */
    String positional(int i, String fallback) {
        return i < positional.size() ? positional.get(i) : fallback;
    }

    /** The audio format named by a file's extension (wav when it has none). */
    static AudioFormat formatOf(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "wav" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return AudioFormat.fromName(ext)
                .orElseThrow(() -> new IllegalArgumentException("unknown audio format '" + ext + "' of " + file));
    }
}
