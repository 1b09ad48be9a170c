package dev.localai.tts.core.engine;

import dev.localai.tts.core.model.hift.HiftStream;
import dev.localai.tts.core.model.hift.SourceNoise;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Session;
import dev.localai.tts.core.model.t3.TokenSampler;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Speaks one chunk of text (at most a few sentences) with one voice, as upstream's {@code generate} does — T3 speech
 * tokens, three silence tokens appended, the S3Gen flow, HiFT and the start fade — but able to hand audio on while T3
 * is still generating.
 *
 * <p>Streaming: whenever enough new speech tokens have arrived (a small first block — counted after the flow's
 * pre-lookahead and the vocoder's look-ahead, so it really yields that much audio — then doubling blocks), the flow
 * is run over the tokens so far and the mel frames that no later token can change much any more (all but the
 * pre-lookahead tokens at the end) go to a {@link HiftStream}, which vocodes them with the receptive-field context of
 * neighbouring frames and a carried sine phase, so the blocks join without seams. The flow noise is one seeded tensor
 * whose prefix every run reuses, so frames agree between runs. Without streaming, one flow run over all tokens gives
 * exactly upstream's computation (with this engine's noise).
 */
public final class Utterance {
    /** Receives audio as it becomes final. */
    public interface Sink {
        void accept(float[] samples);
    }

    /** Figures of one utterance. */
    public record Result(int textTokens, int speechTokens, long samples) {}

    /**
     * @param sampling         T3 sampling (temperature, top-k, top-p, repetition penalty, token cap)
     * @param seed             seeds T3 sampling, the flow noise and the vocoder source noise
     * @param streaming        hand audio on in blocks while generating
     * @param firstBlockTokens speech tokens of the first block (25 tokens = 1 s of audio)
     * @param maxBlockTokens   largest block
     */
    public record Params(SamplingParams sampling, long seed, boolean streaming, int firstBlockTokens, int maxBlockTokens) {}

    /**
     * Whether a streamed utterance runs each block's flow and HiFT on a second thread while T3 decodes the next block
     * (on by default; {@code -Dlocalai.tts.overlapFlush=false} runs them in line, for comparisons). The audio is the
     * same either way: the blocks are the same computations in the same order.
     */
    static volatile boolean overlap = !"false".equals(System.getProperty("localai.tts.overlapFlush"));

    /**
     * Runs flush jobs in order on one helper thread, at most one in flight: {@link #submit} first waits for the
     * previous job (so a failure surfaces at the next block, and audio leaves in order); {@link #finish} waits for
     * the last; {@link #close} always waits for a running job before the utterance frees what it uses. Disabled, or
     * for a job submitted {@code inline}, it runs the job on the caller's thread.
     */
    private static final class FlushPipeline implements AutoCloseable {
        private final java.util.concurrent.ExecutorService thread;
        private java.util.concurrent.Future<Long> running;
        private long samples;

        FlushPipeline(boolean enabled) {
            this.thread = enabled ? java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "tts-stream-flush");
                t.setDaemon(true);
                return t;
            }) : null;
        }

        void submit(java.util.concurrent.Callable<Long> job, boolean inline) {
            if (thread == null || inline) {
                await();
                try {
                    samples += job.call();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return;
            }
            await();
            running = thread.submit(job);
        }

        /** Waits for the job in flight; returns the samples of every job. */
        long finish() {
            await();
            return samples;
        }

        private void await() {
            if (running == null) {
                return;
            }
            java.util.concurrent.Future<Long> f = running;
            running = null;
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        samples += f.get();
                        return;
                    } catch (InterruptedException e) {
                        interrupted = true; // the job uses the utterance's tensors: always wait for it
                    } catch (java.util.concurrent.ExecutionException e) {
                        Throwable c = e.getCause();
                        if (c instanceof RuntimeException r) {
                            throw r;
                        }
                        if (c instanceof Error err) {
                            throw err;
                        }
                        throw new IllegalStateException(c);
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void close() {
            if (thread == null) {
                return;
            }
            try {
                if (running != null) {
                    try {
                        await();
                    } catch (RuntimeException | Error e) {
                        // the utterance is already failing or cancelled: its own exception is the one to report
                    }
                }
            } finally {
                thread.shutdown();
            }
        }
    }

    /** Tokens held back from a block because the encoder's pre-lookahead still sees them change. */
    static final int LOOKAHEAD_TOKENS = 3;

    private Utterance() {}

    static Result run(ChatterboxTurbo m, PreparedVoice voice, String text, Params p, Sink sink,
            BooleanSupplier cancelled) {
        return run(m, null, voice, text, p, sink, cancelled);
    }

    /** As {@link #run(ChatterboxTurbo, PreparedVoice, String, Params, Sink, BooleanSupplier)}, T3 steps batched. */
    static Result run(ChatterboxTurbo m, BatchDecoder decoder, PreparedVoice voice, String text, Params p, Sink sink,
            BooleanSupplier cancelled) {
        int[] textIds = m.text().textTokens(text);
        long promptTokens = voice.promptTokens();
        int stride = m.flow().config().upsampleStride();
        int melBins = m.flow().config().melBins();
        int cap = p.sampling().maxGenLen() + 2 + 3;
        long samples = 0;
        int[] tokens = new int[cap];
        int n = 0;
        try (PointerScope outer = new PointerScope();
             T3Session session = m.t3().start(voice.t3Cond, textIds, p.sampling(), TokenSampler.seeded(p.seed()),
                     decoder);
             SourceNoise source = SourceNoise.seeded(p.seed() ^ 0x5DEECE66DL, m.hift().config().harmonics())) {
            Tensor z = flowNoise(melBins, stride * (promptTokens + cap), p.seed() + 1, m);
            HiftStream vocoder = HiftStream.exact(m.hift(), source, true);
            int emittedFrames = 0;
            // the vocoder emits a frame only once its look-ahead has arrived: the first flush waits for that too, so
            // the first block really carries firstBlockTokens of audio
            int vocoderTokens = (vocoder.latencyFrames() + stride - 1) / stride;
            int nextFlush = p.firstBlockTokens() + LOOKAHEAD_TOKENS + vocoderTokens;
            int block = p.firstBlockTokens();
            try (FlushPipeline pipeline = new FlushPipeline(p.streaming() && overlap)) {
                for (int t = session.next(); t != T3Session.END; t = session.next()) {
                    if (cancelled.getAsBoolean()) {
                        throw new CancellationException("synthesis cancelled");
                    }
                    if (t < T3.SPEECH_VOCAB) {
                        tokens[n++] = t;
                    }
                    if (p.streaming() && n >= nextFlush) {
                        int stable = (n - LOOKAHEAD_TOKENS) * stride;
                        int[] upTo = java.util.Arrays.copyOf(tokens, n);
                        int from = emittedFrames;
                        // the flow and HiFT of this block run while T3 decodes the next one (at most one in flight);
                        // the first block in line: first audio is what a listener waits for, and T3 decoding beside
                        // it would take the cores from it (measured: its flow 1094 ms beside T3 against 871 alone)
                        pipeline.submit(() -> flush(m, voice, upTo, upTo.length, z, promptTokens, from, stable,
                                vocoder, sink), from == 0);
                        emittedFrames = stable;
                        block = Math.min(p.maxBlockTokens(), block * 2);
                        nextFlush = n + block;
                    }
                }
                samples += pipeline.finish();
            }
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("synthesis cancelled");
            }
            for (int i = 0; i < 3; i++) {
                tokens[n++] = T3.S3GEN_SIL;
            }
            samples += flush(m, voice, tokens, n, z, promptTokens, emittedFrames, n * stride, vocoder, sink);
            try (PointerScope scope = new PointerScope()) {
                float[] tail = toArray(vocoder.finish());
                FiniteGuard.check(tail, "HiFT vocoder");
                samples += tail.length;
                if (tail.length > 0) {
                    sink.accept(tail);
                }
            }
            vocoder.close();
            return new Result(textIds.length, n - 3, samples);
        }
    }

    /** Runs the flow over tokens[0, n) and vocodes mel frames [from, to) of the generated part. */
    private static long flush(ChatterboxTurbo m, PreparedVoice voice, int[] tokens, int n, Tensor z, long promptTokens,
            int from, int to, HiftStream vocoder, Sink sink) {
        if (to <= from) {
            return 0;
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor ids = idsTensor(tokens, n, m);
            int stride = m.flow().config().upsampleStride();
            Tensor zn = z.narrow(2, 0, stride * (promptTokens + n));
            Tensor mel = m.flow().inference(ids, voice.promptToken, voice.promptFeat, voice.embedding, zn);
            FiniteGuard.check(mel, "S3Gen flow");
            Tensor part = mel.narrow(2, from, to - from).contiguous();
            float[] out = toArray(vocoder.push(part));
            FiniteGuard.check(out, "HiFT vocoder");
            if (out.length > 0) {
                sink.accept(out);
            }
            return out.length;
        }
    }

    private static Tensor idsTensor(int[] tokens, int n, ChatterboxTurbo m) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = tokens[i];
        }
        Tensor cpu = torch.from_blob(new LongPointer(v), new long[] {1, n}, new TensorOptions(ScalarType.Long)).clone();
        if (!m.device().isCuda()) {
            return cpu;
        }
        try (org.bytedeco.pytorch.Device dev = m.device().torchDevice()) {
            return cpu.to(dev, ScalarType.Long);
        }
    }

    /** Seeded standard-normal noise (1, mel, frames) on the model's device, from a CPU generator. */
    private static Tensor flowNoise(int melBins, long frames, long seed, ChatterboxTurbo m) {
        Generator g = torch.createCPUGenerator(seed);
        Tensor cpu = torch.randn(new long[] {1, melBins, frames}, new GeneratorOptional(g),
                new TensorOptions(ScalarType.Float));
        if (!m.device().isCuda()) {
            return cpu;
        }
        try (org.bytedeco.pytorch.Device dev = m.device().torchDevice()) {
            return cpu.to(dev, ScalarType.Float);
        }
    }

    /** Copies a (1, k) float tensor to a new array (final audio only; never called per decode step). */
    static float[] toArray(Tensor wav) {
        try (Tensor c = wav.is_cuda() ? wav.cpu().contiguous() : wav.contiguous()) {
            int k = (int) c.numel();
            float[] out = new float[k];
            if (k > 0) {
                c.data_ptr_float().get(out);
            }
            return out;
        }
    }
}
