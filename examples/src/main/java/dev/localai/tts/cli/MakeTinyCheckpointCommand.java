package dev.localai.tts.cli;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "make-tiny-checkpoint", mixinStandardHelpOptions = true,
        description = "Write a small seeded random checkpoint in the official Chatterbox Turbo layout "
                + "(same file names and keys, tiny sizes, tokenizer files and conds.pt).")
final class MakeTinyCheckpointCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write into.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + " exists and is not a directory");
        }
        long t0 = System.nanoTime();
        TinyCheckpoint.generate(out, seed, ModelInventory.tiny(), ModelInventory.TINY_TEXT_VOCAB,
                TinyCheckpoint.CondsSpec.tiny());
        spec.commandLine().getOut().printf("wrote a tiny checkpoint (seed %d) to %s in %.1f s%n", seed,
                out.toAbsolutePath(), (System.nanoTime() - t0) / 1e9);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
