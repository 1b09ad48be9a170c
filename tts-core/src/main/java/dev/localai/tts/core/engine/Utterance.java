package dev.localai.tts.core.engine;

import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.hift.HiftStream;
import dev.localai.tts.core.model.hift.SourceNoise;
import dev.localai.tts.core.model.s3gen.FlowTrace;
import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Session;
import dev.localai.tts.core.model.t3.TokenSampler;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
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
 * pre-lookahead and the vocoder's look-ahead, so it really yields that much audio — then blocks sized by the
 * request's {@link StreamPacer} from what it has measured, so that a real-time listener waits as little as it can),
 * the flow is run over the tokens so far and the mel frames that no later token can change much any more (all but the
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

    /**
     * Figures of one utterance.
     *
     * @param samples the samples handed on by the time {@code run} returned (all of them, unless the last part was
     *                left to a request's shared pipeline)
     */
    public record Result(int textTokens, int speechTokens, long samples) {}

    /**
     * @param sampling         T3 sampling (temperature, top-k, top-p, repetition penalty, token cap)
     * @param seed             seeds T3 sampling, the flow noise and the vocoder source noise
     * @param streaming        hand audio on in blocks while generating
     * @param firstBlockTokens speech tokens of the first block (25 tokens = 1 s of audio)
     * @param maxBlockTokens   largest block
     * @param flowSteps        the flow's solver steps, or 0 for the checkpoint's
     */
    public record Params(SamplingParams sampling, long seed, boolean streaming, int firstBlockTokens, int maxBlockTokens,
                         int flowSteps) {}

    static final String OVERLAP_PROPERTY = "localai.tts.overlapFlush";

    /**
     * Whether a streamed utterance runs each block's flow and HiFT on a second thread while T3 decodes the next block,
     * or in line while T3 waits. The engine sets it from the probe's measurement of the two ways
     * ({@link #useMeasuredOverlap}); {@code -Dlocalai.tts.overlapFlush=true|false} fixes it. The audio is the same
     * either way: the blocks are the same computations in the same order. A request's text chunks share the setting
     * ({@link ChunkedSynthesis}: a chunk's last part beside the next chunk's T3).
     */
    static volatile boolean overlap = !"false".equals(System.getProperty(OVERLAP_PROPERTY));

    /**
     * Sets {@link #overlap} from a measurement, unless {@code localai.tts.overlapFlush} fixes it; returns the value
     * in force.
     */
    static boolean useMeasuredOverlap(boolean measured) {
        String fixed = System.getProperty(OVERLAP_PROPERTY);
        if (fixed == null || fixed.isBlank()) {
            overlap = measured;
        }
        return overlap;
    }


    /** Tokens held back from a block because the encoder's pre-lookahead still sees them change. */
    static final int LOOKAHEAD_TOKENS = 3;

    /**
     * Speech tokens of a streamed request's first flush: the first block's, the encoder's pre-lookahead and the
     * vocoder's look-ahead (whole tokens), so that the first block really carries {@code firstBlockTokens} of audio.
     */
    static int firstFlushTokens(ChatterboxTurbo m, int firstBlockTokens) {
        return firstFlushTokens(m.flow().config(), m.hift().config(), firstBlockTokens);
    }

    /** As {@link #firstFlushTokens(ChatterboxTurbo, int)}, from the flow's and the vocoder's sizes (benchmarks). */
    public static int firstFlushTokens(S3GenConfig flow, HiftConfig hift, int firstBlockTokens) {
        return firstBlockTokens + heldTokens(flow, hift);
    }

    /**
     * Tokens every flush holds back beyond its block: the encoder's pre-lookahead and the (exact) vocoder's
     * look-ahead in whole tokens: the vocoder emits a frame only once its look-ahead has arrived.
     */
    static int heldTokens(S3GenConfig flow, HiftConfig hift) {
        int stride = flow.upsampleStride();
        return LOOKAHEAD_TOKENS + (HiftStream.exactLatencyFrames(hift) + stride - 1) / stride;
    }

    private Utterance() {}

    static Result run(ChatterboxTurbo m, PreparedVoice voice, String text, Params p, Sink sink,
            BooleanSupplier cancelled) {
        return run(m, null, voice, text, p, sink, cancelled, null);
    }

    /** The model's flow's quadratic term, for a {@link FlushPipeline}'s pacer. */
    static double flowQuadratic(ChatterboxTurbo m) {
        return dev.localai.tts.core.model.s3gen.S3GenFlow.multiplyAddsQuadratic(m.flow().config());
    }

    /** The flow's solver steps: {@code configured}, or the checkpoint's where that is 0. */
    static int flowSteps(ChatterboxTurbo m, int configured) {
        return configured > 0 ? configured : m.flow().config().nTimesteps();
    }

    /**
     * The flow's cost model for {@link FirstBlockPlan}: its quadratic term, its solver steps ({@code configured}, 0 for
     * the checkpoint's), and a one-step flow's share of their multiply-adds over a first block with a 10 s prompt (272
     * tokens; Turbo's two steps: 0.572, within 1% of it from 147 tokens on).
     */
    static FirstBlockPlan.Flow firstBlockFlow(ChatterboxTurbo m, int configured) {
        var c = m.flow().config();
        int steps = flowSteps(m, configured);
        double share = steps == 1 ? 1
                : dev.localai.tts.core.model.s3gen.S3GenFlow.multiplyAdds(c.withTimesteps(1), 272)
                        / dev.localai.tts.core.model.s3gen.S3GenFlow.multiplyAdds(c.withTimesteps(steps), 272);
        return new FirstBlockPlan.Flow(flowQuadratic(m), steps, share);
    }

    /** As {@link #run(ChatterboxTurbo, PreparedVoice, String, Params, Sink, BooleanSupplier)}, T3 steps batched. */
    static Result run(ChatterboxTurbo m, BatchDecoder decoder, PreparedVoice voice, String text, Params p, Sink sink,
            BooleanSupplier cancelled) {
        return run(m, decoder, voice, text, p, sink, cancelled, null);
    }

    /**
     * Speaks {@code text}; with a {@code shared} pipeline (one per request, see {@link ChunkedSynthesis}) the
     * utterance's blocks go through it, and so does its last part (the flow over every token and the rest of the
     * vocoding): it is left running there and this returns as soon as T3 is done, so the next text chunk's T3 can
     * decode while this one is vocoded. The caller then {@link FlushPipeline#finish finishes} the pipeline before the
     * request ends. Without one, everything has run when this returns.
     */
    static Result run(ChatterboxTurbo m, BatchDecoder decoder, PreparedVoice voice, String text, Params p, Sink sink,
            BooleanSupplier cancelled, FlushPipeline shared) {
        long started = System.nanoTime();
        int[] textIds = m.text().textTokens(text);
        long promptTokens = voice.promptTokens();
        int stride = m.flow().config().upsampleStride();
        // how every flow run but maybe a request's first goes: the whole prompt, the configured solver steps
        FirstBlockPlan.Choice whole = FirstBlockPlan.Choice.whole((int) promptTokens, flowSteps(m, p.flowSteps()));
        int cap = p.sampling().maxGenLen() + 2 + 3;
        int[] tokens = new int[cap];
        int n = 0;
        FlushPipeline own = shared == null ? new FlushPipeline(p.streaming() && overlap, flowQuadratic(m)) : null;
        FlushPipeline pipeline = shared != null ? shared : own;
        Vocoding v;
        try {
            v = new Vocoding(m, p.seed(), stride * (promptTokens + cap));
        } catch (RuntimeException | Error e) {
            if (own != null) {
                own.close();
            }
            throw e;
        }
        boolean handedOff = false;
        long samplesBefore = pipeline.samples();
        // the request's first block runs in line (nothing else is in flight then); a later chunk's first block goes
        // behind the previous chunk's vocoding instead of waiting for it
        boolean firstAudio = pipeline.untouched();
        try {
            try (T3Session session = m.t3().start(voice.t3Cond, textIds, p.sampling(), TokenSampler.seeded(p.seed()),
                    decoder)) {
                int emittedFrames = 0;
                int emittedTokens = 0;
                StreamPacer pacer = pipeline.pacer;
                // the vocoder emits a frame only once its look-ahead has arrived: the first flush waits for that too,
                // so the first block really carries firstBlockTokens of audio. A request's later text chunk, with
                // audio already playing, starts with what the pacer says
                int held = heldTokens(m.flow().config(), m.hift().config());
                int block = p.streaming() && pacer.playing()
                        ? pacer.next(StreamPacer.now(), whole, held, p.firstBlockTokens(), p.maxBlockTokens(),
                                p.firstBlockTokens()).tokens()
                        : p.firstBlockTokens();
                int nextFlush = block + held;
                boolean first = true;
                long t3Nanos = 0;
                int t3Tokens = 0;
                long before = -1; // the first token's time is the prefill's: not T3's pace
                for (int t = session.next(); t != T3Session.END; t = session.next()) {
                    if (before >= 0) {
                        t3Nanos += System.nanoTime() - before;
                        t3Tokens++;
                    }
                    if (cancelled.getAsBoolean()) {
                        throw new CancellationException("synthesis cancelled");
                    }
                    if (t < T3.SPEECH_VOCAB) {
                        tokens[n++] = t;
                    }
                    if (p.streaming() && n >= nextFlush) {
                        pacer.t3(t3Tokens, t3Nanos / 1e6);
                        t3Nanos = 0;
                        t3Tokens = 0;
                        int stable = (n - LOOKAHEAD_TOKENS) * stride;
                        int[] upTo = java.util.Arrays.copyOf(tokens, n);
                        int from = emittedFrames;
                        int audioTokens = n - LOOKAHEAD_TOKENS - emittedTokens;
                        int id = pacer.newBlock();
                        // a request's first block may condition on the prompt's last part only, or take one solver
                        // step, where the engine measured that first audio would otherwise miss its target
                        // (FirstBlockPlan); a later block where the pacer predicts that the listener would otherwise
                        // wait for it
                        boolean inline = first && firstAudio;
                        FirstBlockPlan planner = inline ? pipeline.firstPlan : null;
                        double chosenAt = (System.nanoTime() - started) / 1e6;
                        FirstBlockPlan.Choice choice = planner != null
                                ? planner.choose((int) promptTokens, n, chosenAt)
                                : pacer.flowChoice(StreamPacer.now(), whole, n, audioTokens);
                        int flowTokens = choice.promptTokens() + n;
                        // the flow and HiFT of this block run while T3 decodes the next one (at most one in
                        // flight); the first block in line: first audio is what a listener waits for, and T3
                        // decoding beside it would take the cores from it (measured: its flow 1094 ms beside T3
                        // against 871 alone)
                        double[] flow = {Double.NaN, choice.promptTokens()}; // its ms and the prompt tokens it used
                        boolean handed = pipeline.submit(() -> flush(m, voice, upTo, upTo.length, v.z, choice, from,
                                stable, v.vocoder, sink, pacer, id, flow, true, cancelled), inline);
                        if (handed) {
                            pacer.handedOff(id, StreamPacer.now(), flowTokens, choice.workShare(), audioTokens);
                        } else if (planner != null && pipeline.samples() > samplesBefore) {
                            int used = (int) flow[1];
                            planner.measured((System.nanoTime() - started) / 1e6, chosenAt, flow[0], used + n,
                                    new FirstBlockPlan.Choice(used, choice.steps(), choice.workShare()));
                        }
                        first = false;
                        emittedFrames = stable;
                        emittedTokens = n - LOOKAHEAD_TOKENS;
                        int doubled = Math.min(p.maxBlockTokens(), block * 2);
                        // the next block's size, from what its flow is predicted to cost, whatever this one's did
                        block = pacer.next(StreamPacer.now(), whole, n, p.firstBlockTokens(), p.maxBlockTokens(),
                                doubled).tokens();
                        nextFlush = n + block;
                    }
                    before = System.nanoTime();
                }
                if (cancelled.getAsBoolean()) {
                    throw new CancellationException("synthesis cancelled");
                }
                for (int i = 0; i < 3; i++) {
                    tokens[n++] = T3.S3GEN_SIL;
                }
                int total = n;
                int from = emittedFrames;
                int lastId = pacer.newBlock();
                // a streamed request's last part may run cheaper too, where the listener would otherwise wait for it;
                // a whole clip's is exactly upstream's computation
                FirstBlockPlan.Choice lastWay = p.streaming()
                        ? pacer.flowChoice(StreamPacer.now(), whole, total, total - emittedTokens) : whole;
                double[] lastFlow = {Double.NaN, lastWay.promptTokens()}; // the prompt tokens its flow used
                java.util.concurrent.Callable<Long> last = () -> {
                    try (v) {
                        if (cancelled.getAsBoolean()) {
                            throw new CancellationException("synthesis cancelled");
                        }
                        long out = flush(m, voice, tokens, total, v.z, lastWay, from, total * stride, v.vocoder,
                                sink, pacer, lastId, lastFlow, p.streaming(), cancelled);
                        try (PointerScope scope = new PointerScope()) {
                            float[] tail = vocoded(v.vocoder.finish());
                            if (tail.length > 0) {
                                sink.accept(tail);
                                // the vocoder's held-back tail comes from the same flow run as the flush above
                                pacer.audio(tail.length, StreamPacer.now(),
                                        cheaper(lastWay, (long) lastFlow[1], voice));
                            }
                            return out + tail.length;
                        }
                    }
                };
                // with a request's pipeline the last part runs there, beside the next chunk's T3; alone, in line
                if (pipeline.submit(last, own != null)) {
                    pacer.handedOff(lastId, StreamPacer.now(), lastWay.promptTokens() + total, lastWay.workShare(),
                            total - emittedTokens);
                }
                handedOff = true;
            }
            if (own != null) {
                own.finish();
            }
            return new Result(textIds.length, n - 3, pipeline.samples() - samplesBefore);
        } catch (RuntimeException | Error e) {
            if (!handedOff) {
                pipeline.awaitQuietly(); // a block in flight still reads v
                v.close(); // idempotent: an inline last part has closed it already
            }
            throw e;
        } finally {
            if (own != null) {
                own.close();
            }
        }
    }

    /**
     * A flow observer that ends the run (CancellationException, the run's temporaries freed as it leaves) once the
     * request is {@code cancelled}: after the encoder and after each solver step.
     */
    static FlowTrace stopping(BooleanSupplier cancelled) {
        return new FlowTrace() {
            @Override
            public void mu(Tensor mu) {
                stopIfCancelled();
            }

            @Override
            public void estimatorOut(int step, Tensor velocity) {
                stopIfCancelled();
            }

            private void stopIfCancelled() {
                if (cancelled.getAsBoolean()) {
                    throw new CancellationException("synthesis cancelled");
                }
            }
        };
    }

    /**
     * What one utterance's flow and vocoder hold until its last audio has left: the flow noise (one seeded tensor
     * whose prefix every flush reuses), the vocoder's source noise and its stream.
     */
    private static final class Vocoding implements AutoCloseable {
        final Tensor z;
        final SourceNoise source;
        final HiftStream vocoder;
        private boolean closed;

        Vocoding(ChatterboxTurbo m, long seed, long frames) {
            SourceNoise s = SourceNoise.seeded(seed ^ 0x5DEECE66DL, m.hift().config().harmonics());
            try (PointerScope scope = new PointerScope()) {
                Tensor noise = flowNoise(m.flow().config().melBins(), frames, seed + 1, m);
                noise.retainReference();
                this.z = noise;
            } catch (RuntimeException | Error e) {
                s.close();
                throw e;
            }
            this.source = s;
            this.vocoder = HiftStream.exact(m.hift(), s, true);
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            vocoder.close();
            source.close();
            z.releaseReference();
        }
    }

    /**
     * Runs the flow over tokens[0, n) and vocodes mel frames [from, to) of the generated part; tells the pacer what
     * block {@code id} cost and when its audio left, and {@code flow} (when given) what its flow took in ms and over
     * how many prompt tokens. The flow runs as {@code choice} says: on the last of the voice's prompt tokens
     * ({@link FirstBlockPlan.Part}: their mel frames and the noise of those frames, so that the generated frames see
     * the same noise whatever part of the prompt is used), in its solver steps. The pacer is told the flow's time as
     * a flow in the checkpoint's steps would have taken it. A request {@code cancelled} meanwhile ends at the next of
     * these points: after the flow's encoder, after each of its solver steps, before each of HiFT's decoder windows
     * but the first (a streamed block's HiFT takes up to about half a second on two CPU cores, a whole 300-character
     * chunk's flow and HiFT several seconds, which the next request would otherwise wait for). The audio leaves in
     * one piece after HiFT, or, when {@code listening} (a streamed request's listener plays it as it leaves) and the
     * pacer finds the listener waiting for it ({@link StreamPacer#firstWindow}), window by window as HiFT makes it,
     * the first window a quarter of the block.
     */
    static long flush(ChatterboxTurbo m, PreparedVoice voice, int[] tokens, int n, Tensor z,
            FirstBlockPlan.Choice choice, int from, int to, HiftStream vocoder, Sink sink, StreamPacer pacer, int id,
            double[] flow, boolean listening, BooleanSupplier cancelled) {
        if (to <= from) {
            pacer.blockDone(id, 0, 0, 0, 0);
            return 0;
        }
        try (PointerScope scope = new PointerScope()) {
            long t0 = System.nanoTime();
            Tensor ids = idsTensor(tokens, n, m);
            int stride = m.flow().config().upsampleStride();
            FirstBlockPlan.Part prompt = FirstBlockPlan.Part.last(voice.promptToken, voice.promptFeat,
                    choice.promptTokens(), stride);
            Tensor zn = z.narrow(2, prompt.noiseFrom(), stride * (prompt.used() + n));
            Tensor mel = m.flow().inference(ids, prompt.tokens(), prompt.feat(), voice.embedding, zn, choice.steps(),
                    stopping(cancelled));
            FiniteGuard.check(mel, "S3Gen flow");
            long t1 = System.nanoTime();
            if (flow != null) {
                flow[0] = (t1 - t0) / 1e6;
                flow[1] = prompt.used();
            }
            Tensor part = mel.narrow(2, from, to - from).contiguous();
            boolean cheaper = cheaper(choice, prompt.used(), voice);
            long firstWindow = listening ? pacer.firstWindow(StreamPacer.now(), to - from, StreamPacer.TOKEN_MS / stride)
                    : 0;
            // each piece of audio to the sink and the pacer; the time that takes is not HiFT's
            double[] handing = {0};
            boolean[] started = {false};
            Consumer<float[]> emit = out -> {
                if (out.length > 0) {
                    long h0 = System.nanoTime();
                    sink.accept(out);
                    pacer.audio(out.length, StreamPacer.now(), cheaper, started[0]);
                    started[0] = true;
                    handing[0] += (System.nanoTime() - h0) / 1e6;
                }
            };
            long samples;
            if (firstWindow > 0) {
                // a block the listener would wait for: a short first decoder window, and each window's samples
                // leave as soon as they are made
                samples = vocoder.push(part, cancelled, firstWindow, piece -> emit.accept(vocoded(piece)));
            } else {
                float[] out = vocoded(vocoder.push(part, cancelled)); // a whole chunk's part stops at a window
                emit.accept(out);
                samples = out.length;
            }
            long t2 = System.nanoTime();
            pacer.blockDone(id, (int) prompt.used() + n, (t1 - t0) / 1e6 / choice.workShare(), samples,
                    (t2 - t1) / 1e6 - handing[0]);
            return samples;
        }
    }

    /** HiFT's samples (1, k) on the heap, checked finite. */
    private static float[] vocoded(Tensor wav) {
        float[] out = toArray(wav);
        FiniteGuard.check(out, "HiFT vocoder");
        return out;
    }

    /**
     * Whether a flow run as {@code choice} says, over {@code used} of the voice's prompt tokens, was cheaper than the
     * whole prompt in the checkpoint's steps.
     */
    private static boolean cheaper(FirstBlockPlan.Choice choice, long used, PreparedVoice voice) {
        return choice.workShare() < 1 || used < voice.promptTokens();
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
