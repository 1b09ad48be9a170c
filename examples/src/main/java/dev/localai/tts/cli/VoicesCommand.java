package dev.localai.tts.cli;

import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.VoiceCloner;
import dev.localai.tts.core.voice.VoiceLibrary;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code tts voices add|list|rename|delete}: the voice library on disk. */
@Command(name = "voices", mixinStandardHelpOptions = true,
        description = "Manage the voice library: named reference clips whose conditionals are computed once and "
                + "cached. Use a voice with 'tts speak --voice NAME'.",
        subcommands = {VoicesCommand.Add.class, VoicesCommand.ListVoices.class, VoicesCommand.Rename.class,
                VoicesCommand.Delete.class})
final class VoicesCommand implements Runnable {
    @ParentCommand
    TtsCli root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The library directory of a subcommand. */
    static Path dir(Path option, TtsCli root) {
        return option != null ? option : ModelOptions.defaultVoicesDir(root);
    }

    /** A library for listing and moving entries (nothing is computed). */
    static VoiceLibrary library(Path dir) {
        return new VoiceLibrary(dir, "cli", clip -> {
            throw new IllegalStateException("computing conditionals needs a model: use 'tts voices add'");
        });
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a voice from a reference clip (any format FFmpeg reads, more than 5 s of speech). "
                    + "Its conditionals are computed now with the model, so a bad clip is refused at once.")
    static final class Add implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME", description = "Letters, digits, '_' or '-' (1-64).")
        String name;

        @Parameters(index = "1", paramLabel = "CLIP", description = "Reference audio file.")
        Path clip;

        @Mixin
        ModelOptions model;

        @ParentCommand
        VoicesCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            VoiceLibrary.validateName(name);
            if (TtsEngine.BUILTIN_VOICE.equalsIgnoreCase(name)) {
                throw new IllegalArgumentException("'" + name + "' is the built-in voice's name");
            }
            if (!Files.isRegularFile(clip)) {
                throw new IllegalArgumentException("clip " + clip + " does not exist");
            }
            PrintWriter err = spec.commandLine().getErr();
            PrintStream progress = new PrintStream(new WriterOutputStream(err), true, StandardCharsets.UTF_8);
            ModelSource.Resolved src = ModelSource.resolve(model.resolve(parent.root, progress), false, progress);
            Path dir = model.voicesDir(parent.root);
            long t0 = System.nanoTime();
            VoiceLibrary.Voice v;
            try (VoiceCloner cloner = VoiceCloner.load(src.dir())) {
                v = new VoiceLibrary(dir, src.revision(), cloner::fromClip).add(name, clip);
            }
            spec.commandLine().getOut().printf(Locale.ROOT, "added voice '%s' (%s, %d bytes) to %s in %.1f s%n",
                    v.name(), v.originalFileName(), v.clipBytes(), dir, (System.nanoTime() - t0) / 1e9);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the voices: the model's built-in "
            + "voice, then those of the library.")
    static final class ListVoices implements Callable<Integer> {
        @Option(names = "--voices", paramLabel = "DIR", description = "Voice library directory.")
        Path voices;

        @ParentCommand
        VoicesCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path dir = dir(voices, parent.root);
            PrintWriter out = spec.commandLine().getOut();
            // the model's own voice is always there (speak uses it when --voice is not given)
            out.printf(Locale.ROOT, "%-24s %s%n", TtsEngine.BUILTIN_VOICE, "built-in (the model's own voice)");
            if (!Files.isDirectory(dir)) {
                out.println("no library voices yet (" + dir + " does not exist); add one with "
                        + "'tts voices add NAME clip.wav'");
                out.flush();
                return 0;
            }
            VoiceLibrary lib = library(dir);
            List<VoiceLibrary.Voice> all = lib.list();
            for (VoiceLibrary.Voice v : all) {
                out.printf(Locale.ROOT, "%-24s %s  %8d bytes  %s%n", v.name(), v.added(), v.clipBytes(),
                        v.originalFileName());
            }
            if (all.isEmpty()) {
                out.println("no library voices in " + dir + "; add one with 'tts voices add NAME clip.wav'");
            }
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            for (VoiceLibrary.Problem p : lib.problems()) {
                err.println("tts: warning: skipped '" + p.entry() + "': " + p.reason());
            }
            err.flush();
            return 0;
        }
    }

    @Command(name = "rename", mixinStandardHelpOptions = true, description = "Rename a voice.")
    static final class Rename implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FROM")
        String from;

        @Parameters(index = "1", paramLabel = "TO")
        String to;

        @Option(names = "--voices", paramLabel = "DIR", description = "Voice library directory.")
        Path voices;

        @ParentCommand
        VoicesCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (TtsEngine.BUILTIN_VOICE.equalsIgnoreCase(to)) {
                throw new IllegalArgumentException("'" + to + "' is the built-in voice's name");
            }
            VoiceLibrary.Voice v = library(dir(voices, parent.root)).rename(from, to);
            spec.commandLine().getOut().println("renamed voice '" + from + "' to '" + v.name() + "'");
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a voice and its cached "
            + "conditionals.")
    static final class Delete implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--voices", paramLabel = "DIR", description = "Voice library directory.")
        Path voices;

        @ParentCommand
        VoicesCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path dir = dir(voices, parent.root);
            if (!Files.isDirectory(dir) || !library(dir).delete(name)) {
                throw new IllegalArgumentException("no voice named '" + name + "' in " + dir);
            }
            spec.commandLine().getOut().println("deleted voice '" + name + "'");
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
