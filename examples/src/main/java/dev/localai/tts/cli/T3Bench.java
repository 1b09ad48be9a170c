package dev.localai.tts.cli;

import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Cond;
import dev.localai.tts.core.model.t3.T3Config;
import dev.localai.tts.core.model.t3.T3Session;
import dev.localai.tts.core.model.t3.TokenSampler;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.runtime.Device;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * T3 decode speed at the real Turbo sizes (GPT-2 medium: 24 layers, 1024 wide, 16 heads; 50276 text and 6563 speech
 * tokens) with random weights: the prefill of [speaker | prompt | text | start] and then one KV-cached step per
 * speech token, with Turbo's sampling (temperature, top-k, top-p, repetition penalty). Prints figures; asserts
 * nothing.
 */
final class T3Bench {
    /** What to run. */
    record Params(ScalarType dtype, int promptTokens, int textTokens, int tokens, int warmupTokens, long seed) {}

    /** The figures of one run. */
    record Result(int prefillPositions, double prefillMs, int steps, double meanStepMs, double medianStepMs,
                  double cpuMsPerStep, double loadSeconds, double cachedPrefillMs) {
        Result withCachedPrefill(double ms) {
            return new Result(prefillPositions, prefillMs, steps, meanStepMs, medianStepMs, cpuMsPerStep, loadSeconds,
                    ms);
        }

        double tokensPerSecond() {
            return 1000.0 / meanStepMs;
        }
    }

    private T3Bench() {
    }

    static Result run(Params p) {
        T3Config c = T3Config.turbo();
        long t0 = System.nanoTime();
        torch.manual_seed(p.seed());
        boolean int8 = p.dtype() == ScalarType.Char;
        try (T3 t3 = T3.create(RandomParams.normal(int8 ? ScalarType.Float : p.dtype(), 0.02), c, Device.cpu(),
                int8)) {
            return run(t3, p, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The same measurement on a loaded T3 (its own weights and config; {@code p.dtype()} is not used). */
    static Result run(T3 t3, Params p, double loadSeconds) {
        T3Config c = t3.config();
        try (PointerScope scope = new PointerScope()) {
            double load = loadSeconds;
            SplittableRandom rng = new SplittableRandom(p.seed());
            Tensor spk = torch.randn(1, c.speakerEmbedSize());
            Tensor prompt = p.promptTokens() == 0 ? null
                    : ids(rng, p.promptTokens(), T3.SPEECH_VOCAB);
            T3Cond cond = new T3Cond(spk, prompt);
            int[] text = rng.ints(p.textTokens(), 0, c.textTokensDictSize()).toArray();
            if (p.warmupTokens() > 0) {
                // warms the kernels and the allocator with a short prefill (no prompt) and a few steps
                decode(t3, new T3Cond(spk, null), Arrays.copyOf(text, Math.min(text.length, 8)), p.warmupTokens(),
                        p.seed());
            }
            Result r = decode(t3, cond, text, p.tokens(), p.seed()).withLoad(load);
            if (prompt == null) {
                return r;
            }
            // the engine's path: the voice's prefix KV computed once (first run), then copied (second run)
            t3.enablePrefixCache(1L << 30);
            try {
                decode(t3, cond, text, 1, p.seed());
                return r.withCachedPrefill(decode(t3, cond, text, 1, p.seed()).prefillMs());
            } finally {
                t3.enablePrefixCache(0);
            }
        }
    }

    private static Tensor ids(SplittableRandom rng, int n, int limit) {
        long[] v = rng.longs(n, 0, limit).toArray();
        return Tensor.create(v, 1, n);
    }

    /** One generation of up to {@code tokens} tokens; a stop token drawn early ends it (random weights rarely do). */
    private static Timing decode(T3 t3, T3Cond cond, int[] text, int tokens, long seed) {
        SamplingParams sp = SamplingParams.defaults().withMaxGenLen(tokens);
        try (T3Session s = t3.start(cond, text, sp, TokenSampler.seeded(seed))) {
            long a = System.nanoTime();
            s.next();
            double prefill = (System.nanoTime() - a) / 1e6;
            double[] steps = new double[tokens];
            int n = 0;
            long cpu0 = BenchClock.cpuNanos();
            while (n < tokens) {
                long b = System.nanoTime();
                int t = s.next();
                if (t == T3Session.END) {
                    break;
                }
                steps[n++] = (System.nanoTime() - b) / 1e6;
            }
            double cpuPerStep = n == 0 ? Double.NaN : (BenchClock.cpuNanos() - cpu0) / 1e6 / n;
            return new Timing(1 + (cond.promptSpeechTokens() == null ? 0 : (int) cond.promptSpeechTokens().numel())
                    + text.length + 1, prefill, Arrays.copyOf(steps, n), cpuPerStep);
        }
    }

    private record Timing(int positions, double prefillMs, double[] steps, double cpuMsPerStep) {
        Result withLoad(double load) {
            double[] s = steps.clone();
            Arrays.sort(s);
            double mean = Arrays.stream(s).average().orElse(Double.NaN);
            double median = s.length == 0 ? Double.NaN : s[s.length / 2];
            return new Result(positions, prefillMs, s.length, mean, median, cpuMsPerStep, load, Double.NaN);
        }
    }

    static String describe(Params p, Result r, int threads) {
        String dt = dev.localai.tts.core.tuning.WeightTypes.name(p.dtype());
        return String.format(Locale.ROOT, "T3 turbo (24 x 1024, 16 heads) %s, %d CPU threads: prefill %d positions "
                        + "%.0f ms (%.0f ms with the voice's prefix cached); decode %d tokens: %.1f ms/token mean (median %.1f), %.2f tokens/s "
                        + "(real time needs 25 tokens/s; T3 RTF %.2f); %.1f CPU-ms/token; random weights built in "
                        + "%.1f s",
                dt, threads, r.prefillPositions(), r.prefillMs(), r.cachedPrefillMs(), r.steps(), r.meanStepMs(), r.medianStepMs(),
                r.tokensPerSecond(), 25.0 / r.tokensPerSecond(), r.cpuMsPerStep(), r.loadSeconds());
    }
}
