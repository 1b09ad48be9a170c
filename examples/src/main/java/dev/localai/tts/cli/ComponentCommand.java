package dev.localai.tts.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "component", mixinStandardHelpOptions = true,
        description = "Run one model component on the in.* tensors of a safetensors file and write its out.* "
                + "tensors to another (parity checks against the golden fixtures).")
final class ComponentCommand implements Callable<Integer> {
    /** The stages of the golden fixtures, in pipeline order. */
    static final List<String> STAGES = List.of("tokenizer", "t3_prefill", "t3_greedy", "t3_sampled", "ve",
            "s3tokenizer", "campplus", "embed_ref", "loudness", "s3gen", "hift", "e2e");

    private static final Map<String, ComponentRunner> RUNNERS = Collections.synchronizedMap(new LinkedHashMap<>());

    /** Wires a runner for a stage (the model parts register theirs here). */
    static void register(String stage, ComponentRunner runner) {
        RUNNERS.put(stage, runner);
    }

    static void unregister(String stage) {
        RUNNERS.remove(stage);
    }

    @Parameters(index = "0", paramLabel = "STAGE", description = "One of: ${COMPLETION-CANDIDATES}",
            completionCandidates = Stages.class)
    String stage;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Checkpoint directory.")
    Path model;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "Input safetensors (in.* tensors).")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors to write.")
    Path out;

    @Spec
    CommandSpec spec;

    static final class Stages implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return STAGES.iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!STAGES.contains(stage) && !RUNNERS.containsKey(stage)) {
            throw new IllegalArgumentException("unknown stage '" + stage + "'; stages are " + String.join(", ", STAGES));
        }
        if (!Files.isDirectory(model)) {
            throw new IllegalArgumentException("model directory " + model + " does not exist");
        }
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException("input file " + in + " does not exist");
        }
        ComponentRunner runner = RUNNERS.get(stage);
        if (runner == null) {
            throw new UnsupportedOperationException("stage '" + stage + "' is not implemented yet");
        }
        long t0 = System.nanoTime();
        runner.run(model, in, out);
        spec.commandLine().getErr().printf("%s: wrote %s in %.2f s%n", stage, out, (System.nanoTime() - t0) / 1e9);
        spec.commandLine().getErr().flush();
        return 0;
    }
}
