package dev.localai.tts.core.engine;

import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.tuning.WeightTypes;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The configuration of a {@link TtsEngine}, fixed when it is built; make one with {@link TtsEngine#builder()}.
 *
 * @param model            a directory in the official layout, a Hugging Face repo id (optionally {@code @revision})
 *                         or {@code tiny[:seed]}
 * @param device           where the model runs
 * @param dtype            T3's weight type, or null to choose by measurement ({@link WeightTypes})
 * @param prefixCacheBytes memory for the T3 KV caches of voices' conditioning prefixes (0: off)
 * @param threads          intra-op CPU threads (0: automatic: LibTorch's default, or the logical core count where
 *                         the probe measured that faster; see {@code tuning.IntraOpThreads})
 * @param maxConcurrent    syntheses that run at once
 * @param maxQueue         requests that may wait for a slot
 * @param cacheBytes       bytes of finished audio kept for repeated requests (0: no cache)
 * @param voicesDir        the voice library, or null for the built-in voice only
 * @param allowDownload    whether missing model files may be downloaded
 * @param warmUp           run one short synthesis while building
 * @param allowClipPaths   whether a request's voice may name a clip file on this machine
 * @param chunkChars       largest text chunk in characters
 * @param firstBlockTokens speech tokens in the first streamed block
 * @param maxBlockTokens   speech tokens in the largest streamed block
 * @param firstAudioTarget first audio a streamed request aims at: where the engine measured that its first block would
 *                         come later, that block conditions on the voice prompt's last part (at least 5 s), and
 *                         where that is not enough its flow takes one solver step; above zero, later blocks a
 *                         listener would wait for run on 5 s in one step too; zero never does any of it
 *                         ({@link Builder#firstAudioTarget})
 * @param flowSteps        the flow's mean-flow solver steps, or 0 for the checkpoint's (Turbo: 2)
 *                         ({@link Builder#flowSteps})
 * @param batchDecoding    whether concurrent requests share T3 decode steps, or null for automatic
 * @param stallTimeout     how long a stream waits for its consumer before it is cancelled
 * @param progress         where download progress and the notice of a first-start CPU probe go, or null
 */
public record TtsOptions(String model, Device device, ScalarType dtype, long prefixCacheBytes, int threads,
                         int maxConcurrent, int maxQueue, long cacheBytes, Path voicesDir, boolean allowDownload,
                         boolean warmUp, boolean allowClipPaths, int chunkChars, int firstBlockTokens,
                         int maxBlockTokens, Duration firstAudioTarget, int flowSteps, Boolean batchDecoding,
                         Duration stallTimeout, PrintStream progress) {

    /** The most flow solver steps {@link Builder#flowSteps} takes: the count of S3Gen's flow before its distillation. */
    public static final int MAX_FLOW_STEPS = 10;

    public TtsOptions {
        requireFlowSteps(flowSteps, "flowSteps");
    }

    /** {@code steps} where it is 0 (the checkpoint's) to {@link #MAX_FLOW_STEPS}; else an error naming {@code what}. */
    private static int requireFlowSteps(int steps, String what) {
        if (steps < 0 || steps > MAX_FLOW_STEPS) {
            throw new IllegalArgumentException(what + " must be 0 (the checkpoint's) to " + MAX_FLOW_STEPS + ": "
                    + steps);
        }
        return steps;
    }

    /** Mutable builder of {@link TtsOptions}; every setting has a sensible default. */
    public static final class Builder {
        private String model = ModelSource.DEFAULT;
        private Device device = Device.cpu();
        private ScalarType dtype;
        private long prefixCacheBytes = 256L << 20;
        private int threads;
        private int maxConcurrent = 1;
        private int maxQueue = 16;
        private long cacheBytes = 64L << 20;
        private Path voicesDir;
        private boolean allowDownload = true;
        private boolean warmUp;
        private boolean allowClipPaths;
        private int chunkChars = 300;
        private int firstBlockTokens = 8;
        private int maxBlockTokens = 80;
        private Duration firstAudioTarget = defaultFirstAudioTarget();
        private int flowSteps = defaultFlowSteps();
        private Boolean batchDecoding;
        private Duration stallTimeout = Duration.ofSeconds(60);
        private PrintStream progress;

        Builder() {}

        /**
         * Where the model comes from: a directory in the official layout, a Hugging Face repo id
         * ({@code ResembleAI/chatterbox-turbo}, optionally {@code @revision}), or {@code tiny[:seed]} for a tiny random
         * checkpoint (noise, for tests).
         */
        public Builder model(String source) {
            this.model = Objects.requireNonNull(source, "source");
            return this;
        }

        public Builder model(Path dir) {
            this.model = dir.toAbsolutePath().toString();
            return this;
        }

        /** {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}. */
        public Builder device(String device) {
            this.device = Device.parse(device);
            return this;
        }

        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device);
            return this;
        }

        /**
         * Weight type of T3: {@code fp32}, {@code bf16}, {@code fp16} or, on the CPU, {@code int8} (the GPT-2 blocks'
         * matrices in int8 with per-row scales through FBGEMM, everything else fp32; the flow then takes the type measured fastest for it); on
         * the CPU {@code bf16} also puts the S3Gen flow in bf16 (HiFT and the voice encoders always run in fp32). Unset (the default) picks bf16 on a GPU
         * (T3 only) and, on a CPU, what a short measurement on this machine found fastest within the accuracy bound
         * ({@link WeightTypes}; measured at a machine's first two starts and cached). An explicit value always wins;
         * {@link TtsEngine#modelInfo()} reports T3's.
         */
        public Builder dtype(String dtype) {
            this.dtype = WeightTypes.scalarType(dtype);
            return this;
        }

        /**
         * Memory for the T3 KV caches of voices' conditioning prefixes (default 256 MiB: three Turbo voices in fp32,
         * 74 MiB each), so a request prefills only its text; 0 turns it off.
         */
        public Builder prefixCacheBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("prefixCacheBytes must be >= 0");
            }
            this.prefixCacheBytes = bytes;
            return this;
        }

        /**
         * Intra-op CPU threads (0: automatic: LibTorch's default, one per physical core, or one per logical core
         * where the weight-type probe measured that faster).
         *
         * @throws IllegalArgumentException unless 0 or from 1 to the CPU cores this process may use (more threads
         *                                  than cores only wait on each other)
         */
        public Builder threads(int threads) {
            this.threads = dev.localai.tts.core.tuning.IntraOpThreads.requireValid(threads);
            return this;
        }

        /**
         * Syntheses that run at once (default 1). More slots overlap the requests' T3, flow and vocoder work and, with
         * {@link #batchDecoding}, share T3 decode steps: aggregate throughput rises with load (see
         * {@code docs/performance.md}), each request's latency grows. On a GPU use 8-16.
         */
        public Builder maxConcurrent(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxConcurrent must be >= 1");
            }
            this.maxConcurrent = n;
            return this;
        }

        /**
         * Whether the T3 decode steps of concurrent requests run batched (one forward for all; only with
         * {@link #maxConcurrent} &gt; 1). Throughput then rises with load. With fp32 weights on the CPU the audio is
         * bit-identical to unbatched decoding; with bf16 (and on a GPU) batched kernels round differently, so a
         * request's audio can depend on what it was batched with. Default: on for a GPU and for real-size fp32
         * models on the CPU; off for bf16 on the CPU and for tiny test checkpoints (whose steps are too small to
         * share).
         */
        public Builder batchDecoding(boolean on) {
            this.batchDecoding = on;
            return this;
        }

        /**
         * How long a stream may wait for its consumer to take the next chunk before it is cancelled and its slot
         * freed (default 60 s): guards against callers that abandon a stream without closing it.
         */
        public Builder stallTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("stallTimeout must be positive");
            }
            this.stallTimeout = timeout;
            return this;
        }

        /** Requests that may wait for a slot before {@code EngineException.Kind#BUSY}. */
        public Builder maxQueue(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxQueue must be >= 0");
            }
            this.maxQueue = n;
            return this;
        }

        /** Bytes of finished audio kept for repeated requests (0 disables the cache). */
        public Builder cacheBytes(long bytes) {
            this.cacheBytes = bytes;
            return this;
        }

        /** Directory of the voice library (created if missing); without one only the built-in voice exists. */
        public Builder voicesDir(Path dir) {
            this.voicesDir = dir;
            return this;
        }

        /** Whether missing model files may be downloaded from the hub (default true; HF_HUB_OFFLINE=1 forbids). */
        public Builder allowDownload(boolean allow) {
            this.allowDownload = allow;
            return this;
        }

        /**
         * Whether a request's voice may name a reference clip file on this machine (for command-line tools; never
         * enable it where requests come from the network). Default false.
         */
        public Builder allowClipPaths(boolean allow) {
            this.allowClipPaths = allow;
            return this;
        }

        /** Run one short synthesis while building, so the first request is fast. */
        public Builder warmUp(boolean warmUp) {
            this.warmUp = warmUp;
            return this;
        }

        /** Largest text chunk in characters (sentences are packed up to this). */
        public Builder chunkChars(int chars) {
            if (chars < 20) {
                throw new IllegalArgumentException("chunkChars must be >= 20");
            }
            this.chunkChars = chars;
            return this;
        }

        /**
         * Speech tokens of audio in the first streamed block (25 = 1 s; default 8) and in the largest block (default
         * 80). The first block leaves once its tokens plus the model's look-ahead (3 tokens for the flow, about 11
         * for the vocoder) have been generated; each later block is sized from what the request has measured so far,
         * so that a real-time listener waits as little as the machine allows (the largest block predicted to arrive
         * before the audio sent has played out; blocks double until the costs are known).
         */
        public Builder streamBlocks(int firstTokens, int maxTokens) {
            if (firstTokens < Utterance.LOOKAHEAD_TOKENS + 1 || maxTokens < firstTokens) {
                throw new IllegalArgumentException("need " + (Utterance.LOOKAHEAD_TOKENS + 1)
                        + " <= firstTokens <= maxTokens");
            }
            this.firstBlockTokens = firstTokens;
            this.maxBlockTokens = maxTokens;
            return this;
        }

        /**
         * First audio a streamed request aims at (default 1 s, issue 13's target; {@code
         * -Dlocalai.tts.firstAudioTarget=MS} sets the default). Every flow run covers the voice's whole S3Gen prompt
         * (up to 10 s) as well as the tokens so far, and on a slow CPU that is most of the wait for the first audio.
         * Where the engine has measured (its warm-up, or earlier requests) that a request's first block would come
         * later than this, that block's flow conditions on the prompt's last part only: as long as the target
         * allows, never under 5 s, the shortest reference clip upstream accepts. Where even 5 s would miss it, the
         * flow's mean-flow solver takes one Euler step instead of Turbo's two (upstream's {@code n_cfm_timesteps};
         * about 57% of the flow's work), again on the longest prompt the target allows. That flow run's audio is about
         * 0.8 s (the first block and the vocoder's look-ahead behind it). With a target above 0, a later block that a
         * real-time listener would otherwise wait for (the request's pacer predicts it) runs on the prompt's last 5 s
         * in one step too, until the listener's buffer covers a block on the whole prompt
         * (each stream's {@code SynthesisStats#cheaperAudioSeconds()} says how much of it came so). Blocks made in
         * time and every non-streamed synthesis use the whole prompt in two steps; {@link Duration#ZERO} has every
         * flow run do so.
         */
        public Builder firstAudioTarget(Duration target) {
            if (target == null || target.isNegative()) {
                throw new IllegalArgumentException("firstAudioTarget must be >= 0");
            }
            this.firstAudioTarget = target;
            return this;
        }

        /**
         * The S3Gen flow's mean-flow solver steps for every synthesis (upstream's {@code n_cfm_timesteps}); 0, the
         * default, takes the checkpoint's (Turbo: 2, what upstream's pipeline runs; {@code -Dlocalai.tts.flowSteps=N}
         * sets the default). One step is the mode the decoder
         * was distilled for (upstream's README: "from 10 steps to just one") and costs about 57% of the flow's two
         * (an AVX2-only 2-core CPU: a 5 s utterance's flow 1.54 s instead of 2.70); the audio differs from upstream's
         * two-step output. Streamed first blocks may take one step anyway where first audio would otherwise miss
         * {@link #firstAudioTarget}.
         */
        public Builder flowSteps(int steps) {
            this.flowSteps = requireFlowSteps(steps, "flowSteps");
            return this;
        }

        private static int defaultFlowSteps() {
            return (int) longProperty("localai.tts.flowSteps", 0, 0, MAX_FLOW_STEPS,
                    "0 (the checkpoint's) to " + MAX_FLOW_STEPS);
        }

        private static Duration defaultFirstAudioTarget() {
            return Duration.ofMillis(longProperty("localai.tts.firstAudioTarget", 1000, 0, Long.MAX_VALUE,
                    "milliseconds >= 0"));
        }

        /**
         * The whole number in system property {@code name}, or {@code unset} where it is absent or blank; an error
         * saying it must be {@code rule} where it is not a number in [{@code min}, {@code max}].
         */
        private static long longProperty(String name, long unset, long min, long max, String rule) {
            String v = System.getProperty(name, "").trim();
            if (v.isEmpty()) {
                return unset;
            }
            try {
                long n = Long.parseLong(v);
                if (n >= min && n <= max) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
            throw new IllegalArgumentException(name + " must be " + rule + ": " + v);
        }

        /**
         * Where download progress goes, and a line before the pause of some seconds of the CPU probe, which runs at a
         * machine's first two starts (default: nowhere).
         */
        public Builder progress(PrintStream out) {
            this.progress = out;
            return this;
        }

        /** The options as set so far. */
        public TtsOptions options() {
            return new TtsOptions(model, device, dtype, prefixCacheBytes, threads, maxConcurrent, maxQueue,
                    cacheBytes, voicesDir, allowDownload, warmUp, allowClipPaths, chunkChars, firstBlockTokens,
                    maxBlockTokens, firstAudioTarget, flowSteps, batchDecoding, stallTimeout, progress);
        }

        /** Resolves (and if needed downloads) the model and loads it. Blocks until the engine is ready. */
        public TtsEngine build() {
            return new TtsEngine(options());
        }
    }
}
