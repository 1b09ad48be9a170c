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
        description = {"Run one model component on the in.* tensors of a safetensors file and write its mid.* and "
                + "out.* tensors, with the golden fixtures' names, to another (parity checks against the goldens).",
                "t3 (= t3_prefill, t3_greedy, t3_sampled) writes the names of all three T3 goldens and samples with "
                        + "in.uniforms when present; tokenizer reads and writes the golden tokenizer.json layout; "
                        + "conds turns in.wav24k (and in.wav16k) into the conditionals; e2e runs the whole pipeline."})
final class ComponentCommand implements Callable<Integer> {
    private static final Map<String, ComponentRunner> BUILT_IN = ComponentRunners.builtIn();

    /** The stages (those of the golden fixtures, plus t3 and conds), in pipeline order. */
    static final List<String> STAGES = List.copyOf(BUILT_IN.keySet());

    private static final Map<String, ComponentRunner> RUNNERS = Collections.synchronizedMap(new LinkedHashMap<>(BUILT_IN));

    /** Replaces the runner of a stage (tests). */
    static void register(String stage, ComponentRunner runner) {
        RUNNERS.put(stage, runner);
    }

    /** Restores the built-in runner of a stage (or removes an extra one). */
    static void unregister(String stage) {
        if (BUILT_IN.containsKey(stage)) {
            RUNNERS.put(stage, BUILT_IN.get(stage));
        } else {
            RUNNERS.remove(stage);
        }
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
        long t0 = System.nanoTime();
        runner.run(model, in, out);
        spec.commandLine().getErr().printf("%s: wrote %s in %.2f s%n", stage, out, (System.nanoTime() - t0) / 1e9);
        spec.commandLine().getErr().flush();
        return 0;
    }
}
