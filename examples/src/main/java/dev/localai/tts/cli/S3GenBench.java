package dev.localai.tts.cli;

import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.hift.HiftStream;
import dev.localai.tts.core.model.hift.SourceNoise;
import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RandomParams;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * S3Gen (the mean-flow decoder: conformer encoder plus one estimator pass per solver step, two in Turbo) and the HiFT vocoder at the
 * real Turbo sizes with random weights: milliseconds of compute per second of audio produced, for a reference prompt
 * and an utterance of given lengths (25 tokens = 50 mel frames = 1 s). HiFT vocodes as the engine does, through a
 * {@link HiftStream} (windows of 256 frames on the CPU). Prints figures; asserts nothing.
 */
final class S3GenBench {
    /** What to run. */
    record Params(ScalarType flowDtype, int promptTokens, int tokens, int steps, int repeats, long seed) {}

    /** Median figures over the repeats. */
    record Result(double audioSeconds, double flowMs, double hiftMs, double cpuMsPerRun, double loadSeconds) {
        double flowMsPerAudioSecond() {
            return flowMs / audioSeconds;
        }

        double hiftMsPerAudioSecond() {
            return hiftMs / audioSeconds;
        }

        double totalMsPerAudioSecond() {
            return (flowMs + hiftMs) / audioSeconds;
        }
    }

    private S3GenBench() {
    }

    static Result run(Params p) {
        S3GenConfig fc = S3GenConfig.turbo();
        HiftConfig hc = HiftConfig.turbo();
        long t0 = System.nanoTime();
        try (S3GenFlow flow = S3GenFlow.random(fc, p.seed(), p.flowDtype());
             HiFTGenerator hift = HiFTGenerator.load(randomHift(p.seed() + 1), hc);
             PointerScope scope = new PointerScope()) {
            double load = (System.nanoTime() - t0) / 1e9;
            FlowInputs in = FlowInputs.random(flow, p.promptTokens(), p.tokens(), p.seed());
            double[] flowMs = new double[p.repeats()];
            double[] hiftMs = new double[p.repeats()];
            long samples = 0;
            long cpu0 = 0;
            for (int i = -1; i < p.repeats(); i++) {
                if (i == 0) {
                    cpu0 = BenchClock.cpuNanos();
                }
                try (PointerScope it = new PointerScope()) {
                    long a = System.nanoTime();
                    Tensor mel = in.run(flow, p.steps());
                    long b = System.nanoTime();
                    // as the engine vocodes: through a stream, which cuts a long run into windows on the CPU
                    // (HiftStream: one window of the whole utterance faults its 8 MB tensors in again at every run)
                    try (SourceNoise noise = SourceNoise.seeded(p.seed(), hc.harmonics());
                         HiftStream stream = HiftStream.exact(hift, noise, false)) {
                        long n = stream.push(mel).size(-1);
                        n += stream.finish().size(-1);
                        long c = System.nanoTime();
                        samples = n;
                        if (i >= 0) {
                            flowMs[i] = (b - a) / 1e6;
                            hiftMs[i] = (c - b) / 1e6;
                        }
                    }
                }
            }
            double cpuPerRun = (BenchClock.cpuNanos() - cpu0) / 1e6 / p.repeats();
            return new Result(samples / (double) hc.sampleRate(), median(flowMs), median(hiftMs), cpuPerRun, load);
        }
    }

    /**
     * Random inputs of one flow inference in the current {@code PointerScope}: {@code promptTokens} prompt tokens
     * with their mel frames, {@code tokens} new ones, a speaker embedding and the seeded noise.
     */
    record FlowInputs(Tensor tokens, Tensor prompt, Tensor promptFeat, Tensor embedding, Tensor z) {
        static FlowInputs random(S3GenFlow flow, int promptTokens, int tokens, long seed) {
            S3GenConfig c = flow.config();
            SplittableRandom rng = new SplittableRandom(seed);
            return new FlowInputs(Tensor.create(rng.longs(tokens, 0, c.vocabSize()).toArray(), 1, tokens),
                    Tensor.create(rng.longs(promptTokens, 0, c.vocabSize()).toArray(), 1, promptTokens),
                    torch.randn(1, (long) c.upsampleStride() * promptTokens, c.melBins()),
                    torch.randn(1, c.spkEmbedDim()), flow.noise(promptTokens, tokens, seed));
        }

        /** The mel frames of the new tokens. */
        Tensor run(S3GenFlow flow) {
            return flow.inference(tokens, prompt, promptFeat, embedding, z);
        }

        /** The mel frames of the new tokens after {@code steps} solver steps. */
        Tensor run(S3GenFlow flow, int steps) {
            return flow.inference(tokens, prompt, promptFeat, embedding, z, steps,
                    dev.localai.tts.core.model.s3gen.FlowTrace.NONE);
        }
    }

    /** Random vocoder weights at the real sizes; Snake alphas are kept near 1 so the activations stay finite. */
    private static ParamSource randomHift(long seed) {
        return snakeSafe(new RandomParams(seed));
    }

    private static ParamSource snakeSafe(ParamSource r) {
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                Tensor t = r.take(key, shape);
                if (key.endsWith("alpha")) {
                    t.abs_().add_(new Scalar(1.0));
                }
                return t;
            }

            @Override
            public ParamSource sub(String name) {
                return snakeSafe(r.sub(name));
            }
        };
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static String describe(Params p, Result r, int threads) {
        String dt = p.flowDtype() == ScalarType.BFloat16 ? "bf16" : "fp32";
        return String.format(Locale.ROOT, "S3Gen flow %s (%d solver step%s) + HiFT fp32, %d CPU threads, prompt %d "
                        + "tokens, %d tokens -> %.2f s of audio: flow %.0f ms (%.0f ms per s of audio), HiFT %.0f ms (%.0f ms per s), "
                        + "total %.0f ms per s of audio (RTF %.3f); median of %d runs; %.0f CPU-ms per s of audio; "
                        + "random weights built in %.1f s",
                dt, p.steps(), p.steps() == 1 ? "" : "s", threads, p.promptTokens(), p.tokens(), r.audioSeconds(), r.flowMs(), r.flowMsPerAudioSecond(),
                r.hiftMs(), r.hiftMsPerAudioSecond(), r.totalMsPerAudioSecond(), r.totalMsPerAudioSecond() / 1000,
                p.repeats(), r.cpuMsPerRun() / r.audioSeconds(), r.loadSeconds());
    }
}
