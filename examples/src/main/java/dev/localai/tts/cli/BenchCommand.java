package dev.localai.tts.cli;

import dev.localai.tts.core.runtime.Torch;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code tts bench engine|t3|s3gen}: speed figures at the real Turbo sizes (random weights need no checkpoint).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure speed at the real Chatterbox Turbo sizes (CPU).",
        subcommands = {BenchCommand.Engine.class, BenchCommand.T3.class, BenchCommand.S3Gen.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.ParentCommand
    TtsCli root;

    @Command(name = "engine", mixinStandardHelpOptions = true,
            description = "What users feel, with the engine's defaults: RTF of one ~5 s utterance, time to first "
                    + "streamed audio and a real-time listener's waits, T3 ms/token against its memory-bandwidth "
                    + "floor, the first streamed block's flow against its compute floor; and which of the targets "
                    + "rtf <= 1.0, first_audio_ms <= 1000 and t3_over_floor <= 1.3 this machine meets.")
    static final class Engine implements Callable<Integer> {
        @Option(names = "--model", paramLabel = "random-turbo[:seed]|DIR|REPO_ID", defaultValue = "random-turbo",
                description = "random-turbo (random weights at the real sizes, written once to the cache, about "
                        + "3 GB), a model directory or a Hugging Face repo id. Default: ${DEFAULT-VALUE}.")
        String model;

        @Option(names = "--offline", description = "Never download: a repo id must be in the hub cache.")
        boolean offline;

        @Option(names = "--json", description = "Print one JSON object instead of lines.")
        boolean json;

        @Option(names = "--markdown", description = "Print the figures as a Markdown table (header and one row, the "
                + "CPU named), as docs/performance.md records them; after the JSON line with --json.")
        boolean markdown;

        @Option(names = "--t3-tokens", defaultValue = "60", description = "T3 decode steps timed (default "
                + "${DEFAULT-VALUE}).")
        int t3Tokens;

        @Option(names = "--repeats", defaultValue = "1", description = "Runs of the utterance and of the streamed "
                + "request; medians and ranges are printed (default ${DEFAULT-VALUE}).")
        int repeats;

        @picocli.CommandLine.ParentCommand
        BenchCommand bench;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            String dir;
            if (model.startsWith("random-turbo")) {
                dir = dev.localai.tts.core.engine.RandomTurbo.resolve(model);
            } else {
                ModelOptions m = new ModelOptions();
                m.model = model;
                m.offline = offline;
                dir = m.resolve(bench.root, System.err);
            }
            var r = EngineBenchmark.run(dir, t3Tokens, repeats);
            if (json) {
                out.println(EngineBenchmark.json(r));
            }
            if (markdown) {
                out.println(EngineTargets.markdownHeader());
                out.println(EngineTargets.markdownRow(r));
            }
            if (!json && !markdown) {
                r.forEach((k, v) -> out.println(k + ": " + v));
            }
            out.flush();
            return 0;
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static ScalarType dtype(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "fp32", "float32" -> ScalarType.Float;
            case "bf16", "bfloat16" -> ScalarType.BFloat16;
            case "int8" -> ScalarType.Char;
            default -> throw new IllegalArgumentException("dtype must be fp32, bf16 or int8: " + s);
        };
    }

    /**
     * The component benchmarks' thread count: {@code --threads} as given, checked as the engine checks it
     * ({@code IntraOpThreads.requireValid}), or for 0 two threads (the figures docs/performance.md records), one on a
     * one-core machine.
     */
    static int benchThreads(int threads) {
        int n = dev.localai.tts.core.tuning.IntraOpThreads.requireValid(threads);
        return n > 0 ? n : Math.min(2, Runtime.getRuntime().availableProcessors());
    }

    @Command(name = "t3", mixinStandardHelpOptions = true,
            description = "T3 decode: tokens per second and time per token (GPT-2 medium, KV cache, Turbo sampling).")
    static final class T3 implements Callable<Integer> {
        @Option(names = "--dtype", split = ",", defaultValue = "fp32,bf16",
                description = "Weight types to measure (default ${DEFAULT-VALUE}).")
        java.util.List<String> dtypes;

        @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU threads (default 2, "
                + "or 1 on a one-core machine; at most the CPU cores).")
        int threads;

        @Option(names = "--tokens", defaultValue = "100", description = "fp32 decode steps timed (default "
                + "${DEFAULT-VALUE}).")
        int tokens;

        @Option(names = "--bf16-tokens", defaultValue = "-1", description = "bf16 decode steps timed (default: "
                + "--tokens where the weight-type probe found bf16 faster, else 4: bf16 can be very slow on a CPU).")
        int bf16Tokens;

        @Option(names = "--prompt-tokens", defaultValue = "375", description = "Prompt speech tokens of the voice "
                + "(default ${DEFAULT-VALUE}).")
        int promptTokens;

        @Option(names = "--bf16-prompt-tokens", defaultValue = "-1", description = "Prompt speech tokens for bf16 "
                + "(default: --prompt-tokens where the probe found bf16 faster, else 0, to keep its prefill short).")
        int bf16PromptTokens;

        @Option(names = "--text-tokens", defaultValue = "30", description = "Text tokens (default ${DEFAULT-VALUE}).")
        int textTokens;

        @Option(names = "--competing-load", paramLabel = "BUSY/PERIOD", description = "Another program's work beside "
                + "the run: a thread that keeps a core busy BUSY ms in every PERIOD ms (e.g. 5/20), as a browser or "
                + "a game's launcher would on a desktop. Default: none.")
        String competingLoad;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CompetingLoad load = CompetingLoad.parse(competingLoad); // a bad value fails before anything is loaded
            Torch.init(benchThreads(threads));
            PrintWriter out = spec.commandLine().getOut();
            out.println(BenchClock.machine());
            out.flush();
            var probe = dev.localai.tts.core.tuning.DtypeProbe.cached();
            out.println("weight-type probe: " + probe.describe());
            var plan = dev.localai.tts.core.tuning.WeightTypes.fromProbe(probe);
            // the kernels the engine picks from the same probe, so int8 is timed as the engine runs it (measured:
            // 32 ms per token on FBGEMM's kernel against 12 on the native one the engine took, Intel Xeon VM)
            boolean int8Native = dev.localai.tts.core.nn.Int8Matrix.useMeasuredKernel(plan.int8Native());
            boolean nativeAttention = dev.localai.tts.core.nn.CpuAttention.useForDecode(
                    dev.localai.tts.core.tuning.WeightTypes.nativeDecodeAttention(probe.decodeAttentionMs()));
            out.println("int8 products: " + (int8Native ? "native " + dev.localai.tts.core.nn.Int8Kernel.isa().label()
                    : "fbgemm") + "; decode attention: " + (nativeAttention ? "native" : "libtorch"));
            boolean fastBf16 = plan.t3().value == ScalarType.BFloat16.value;
            int bf16Steps = bf16Tokens >= 0 ? bf16Tokens : fastBf16 ? tokens : 4;
            int bf16Prompt = bf16PromptTokens >= 0 ? bf16PromptTokens : fastBf16 ? promptTokens : 0;
            for (String d : dtypes) {
                ScalarType dt = dtype(d);
                boolean bf16 = dt.value == ScalarType.BFloat16.value;
                T3Bench.Params p = new T3Bench.Params(dt, bf16 ? bf16Prompt : promptTokens, textTokens,
                        bf16 ? bf16Steps : tokens, bf16 ? 1 : 5, 7);
                T3Bench.Result r;
                try (CompetingLoad.Running l = load == null ? null : load.start()) {
                    r = T3Bench.run(p);
                }
                out.println(T3Bench.describe(p, r, Torch.threads())
                        + (competingLoad == null ? "" : "; beside a competing load of " + competingLoad.trim()
                        + " ms"));
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "s3gen", mixinStandardHelpOptions = true,
            description = "S3Gen flow + HiFT vocoder: milliseconds per second of audio.")
    static final class S3Gen implements Callable<Integer> {
        @Option(names = "--dtype", split = ",", defaultValue = "fp32,bf16",
                description = "Flow weight types to measure (default ${DEFAULT-VALUE}; HiFT runs fp32).")
        java.util.List<String> dtypes;

        @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU threads (default 2, "
                + "or 1 on a one-core machine; at most the CPU cores).")
        int threads;

        @Option(names = "--prompt-tokens", defaultValue = "250",
                description = "Reference prompt tokens (default ${DEFAULT-VALUE} = 10 s, the longest upstream uses).")
        int promptTokens;

        @Option(names = "--tokens", defaultValue = "253",
                description = "Speech tokens to decode (default ${DEFAULT-VALUE} = 10 s + 3 silence tokens).")
        int tokens;

        @Option(names = "--repeats", defaultValue = "3", description = "Timed runs after one warm-up (default "
                + "${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--steps", defaultValue = "2", description = "Euler steps of the flow's mean-flow solver "
                + "(upstream's n_cfm_timesteps; default ${DEFAULT-VALUE}, Turbo's).")
        int steps;

        @Option(names = "--conv-layout", split = ",", defaultValue = "auto",
                description = "Convolution layouts to measure: auto (the engine's, measured by the weight-type "
                        + "probe), contiguous, channels-last (default ${DEFAULT-VALUE}).")
        java.util.List<String> layouts;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            // every name checked before any work ("auto" is resolved later: it may run the probe, after Torch.init)
            layouts.stream().filter(l -> !l.equals("auto")).forEach(this::channelsLast);
            if (steps < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--steps must be at least 1: " + steps);
            }
            Torch.init(benchThreads(threads));
            PrintWriter out = spec.commandLine().getOut();
            out.println(BenchClock.machine());
            // fp32 products on the kernel the engine takes (oneDNN or OpenBLAS, as the probe measured), so an fp32
            // flow is timed as the engine runs it (measured: 2.6 s against 1.1 s for the first block, AMD EPYC)
            var plan = dev.localai.tts.core.tuning.WeightTypes.fromProbe(
                    dev.localai.tts.core.tuning.DtypeProbe.cached());
            dev.localai.tts.core.nn.Linear.useOnednnForFp32(plan.fp32LinearOnednn());
            out.println("fp32 products: " + (dev.localai.tts.core.nn.Linear.onednnForFp32() ? "onednn" : "openblas"));
            out.flush();
            for (String layout : layouts) {
                boolean channelsLast = channelsLast(layout);
                dev.localai.tts.core.nn.Conv.useChannelsLast(channelsLast);
                for (String d : dtypes) {
                    S3GenBench.Params p = new S3GenBench.Params(dtype(d), promptTokens, tokens, steps, repeats, 7);
                    out.println(S3GenBench.describe(p, S3GenBench.run(p), Torch.threads())
                            + (channelsLast ? "; convolutions channels-last" : "; convolutions contiguous"));
                    out.flush();
                }
            }
            return 0;
        }

        /** Whether {@code --conv-layout} {@code layout} runs channels-last ({@code auto}: as the probe measured). */
        private boolean channelsLast(String layout) {
            return switch (layout) {
                case "auto" -> dev.localai.tts.core.tuning.ConvLayout.channelsLast(
                        dev.localai.tts.core.tuning.DtypeProbe.cached().convLayoutMs());
                case "contiguous" -> false;
                case "channels-last" -> true;
                default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--conv-layout must be auto, contiguous or channels-last: " + layout);
            };
        }
    }
}
