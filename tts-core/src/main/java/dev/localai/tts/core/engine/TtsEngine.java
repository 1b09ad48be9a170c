package dev.localai.tts.core.engine;

import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.EngineHealth;
import dev.localai.tts.core.engine.api.ModelInfo;
import dev.localai.tts.core.engine.api.SpeechPublisher;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.SynthesisProgress;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.core.engine.api.VoiceInfo;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.nn.ThreadPools;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.NativeHeap;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.tuning.ConvLayout;
import dev.localai.tts.core.tuning.DtypeProbe;
import dev.localai.tts.core.tuning.IntraOpThreads;
import dev.localai.tts.core.tuning.WeightTypes;
import dev.localai.tts.core.voice.Conditionals;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Chatterbox Turbo speech engine: thread-safe, streaming, with long-text chunking, a bounded request queue and
 * an audio cache.
 *
 * <pre>{@code
 * try (TtsEngine tts = TtsEngine.builder().model("ResembleAI/chatterbox-turbo").build()) {
 *     AudioClip clip = tts.synthesize(SpeechRequest.of("Hello from the JVM."));
 *     Files.write(Path.of("hello.wav"), AudioEncoders.encode(AudioFormat.WAV, clip.samples(), clip.sampleRate()));
 * }
 * }</pre>
 *
 * <p>Long text is split at sentence boundaries into chunks the model handles well ({@link TtsOptions#chunkChars}); every
 * chunk uses the same voice and a seed derived from the request's, trailing silence and hallucinated tails are cut at
 * the seams, and chunks are joined with a short equal-power crossfade. Requests without a seed use seed 0, so the
 * same request gives the same audio (and is served from the cache the second time).
 */
public final class TtsEngine implements SpeechSynthesizer, SynthesisJob.Host {
    private static final Logger LOG = Logger.getLogger(TtsEngine.class.getName());
    /** Id of the voice shipped in {@code conds.pt}. */
    public static final String BUILTIN_VOICE = "default";
    private static final int SR = AudioClip.SAMPLE_RATE;

    private final TtsOptions options;
    private final ModelSource.Resolved source;
    private final ChatterboxTurbo model;
    /** Steps the T3 sessions of concurrent requests together; null with one slot or batching off. */
    private final BatchDecoder decoder;
    private final Voices voices;
    private final WorkerPool workers;
    private final AudioCache<CacheKey> cache;
    /** What a streamed request's first block conditions on: the voice prompt's last part where first audio needs it. */
    private final FirstBlockPlan firstPlan;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong requests = new AtomicLong();
    /** Accepted requests not yet finished (so close() can give back the voices of those that never ran). */
    private final Set<SynthesisJob> live = ConcurrentHashMap.newKeySet();

    /**
     * Sets the CPU kernels that are the machine's rather than a model's: which kernel runs fp32 linear layers, the
     * convolutions' layout, which kernel int8 matrices get and which form T3's decode attention takes, all as the probe
     * measured them. Every CPU engine of the process sets the same values,
     * whatever its dtypes (an explicit dtype asks the probe too), so one engine never changes another's numerics.
     * Returns what was switched on, for the log.
     */
    private static String useMachineKernels(WeightTypes.Probe probe) {
        WeightTypes.Plan measured = WeightTypes.fromProbe(probe);
        boolean linearOnednn = measured.fp32LinearOnednn();
        boolean channelsLast = ConvLayout.channelsLast(probe.convLayoutMs());
        dev.localai.tts.core.nn.Linear.useOnednnForFp32(linearOnednn);
        dev.localai.tts.core.nn.Conv.useChannelsLast(channelsLast);
        boolean int8Native = dev.localai.tts.core.nn.Int8Matrix.useMeasuredKernel(measured.int8Native());
        boolean attention = dev.localai.tts.core.nn.CpuAttention.useForDecode(
                WeightTypes.nativeDecodeAttention(probe.decodeAttentionMs()));
        boolean overlap = Utterance.useMeasuredOverlap(WeightTypes.overlapStreaming(probe.streamOverlapMs()));
        return (linearOnednn ? ", fp32 linear layers on oneDNN" : "")
                + (overlap ? ", streamed blocks vocoded beside T3" : ", streamed blocks vocoded in line")
                + (attention ? ", decode attention on the native kernel ("
                        + dev.localai.tts.core.nn.CpuAttention.path() + ")" : "")
                + (channelsLast ? ", convolutions channels-last" : "")
                + (int8Native ? ", int8 products on the native kernel ("
                        + dev.localai.tts.core.nn.Int8Kernel.isa().label() + ")" : "")
                + (int8Native && dev.localai.tts.core.nn.DecoderBlockKernel.enabled()
                        ? ", int8 T3 decode blocks as one native call ("
                        + dev.localai.tts.core.nn.DecoderBlockKernel.cacheType().label()
                        + " KV cache, fp16 speech head)" : "");
    }

    /**
     * Where the flow's attention runs, for the log: this project's kernel and its path (the fp32 one for an fp32 flow,
     * the bf16 one for a bf16 flow attending in bf16) where it runs, else LibTorch's, in fp32 where a bf16 flow's
     * attention is computed so.
     */
    static String flowAttention(ScalarType flow, boolean attentionFp32, boolean cuda) {
        if (cuda) {
            return "LibTorch";
        }
        if (flow.value == ScalarType.Float.value) {
            return Fp32Attention.enabled() ? "native kernel, " + Fp32Attention.path() : "LibTorch";
        }
        if (attentionFp32) {
            return "LibTorch, fp32";
        }
        return Bf16Attention.enabled() ? "native kernel, " + Bf16Attention.path() : "LibTorch";
    }

    TtsEngine(TtsOptions o) {
        this.options = o;
        IntraOpThreads.requireValid(o.threads()); // options made without the builder are held to its rule too
        if (o.firstAudioTarget() == null || o.firstAudioTarget().isNegative()) {
            throw new IllegalArgumentException("firstAudioTarget must be >= 0");
        }
        if (!o.device().isCuda() && o.progress() != null) {
            // every CPU engine asks the probe (useMachineKernels): asked first, it can say why the pause, if any
            DtypeProbe.cached(() -> {
                o.progress().println("measuring this CPU's kernels and weight types (some seconds, at the first"
                        + " two starts; kept in " + DtypeProbe.cacheFile() + ")");
                o.progress().flush();
            });
        }
        // configured, else (on the CPU) measured against LibTorch's default by the probe, else LibTorch's default (0)
        int threads = IntraOpThreads.choose(o.threads(), o.device().isCuda(), Torch.threadsSetByEnvironment(),
                Torch.defaultThreads(), Runtime.getRuntime().availableProcessors(), DtypeProbe::cached);
        Torch.init(threads);
        String oversubscribed = o.threads() > 0 || o.device().isCuda() ? null : IntraOpThreads.environmentWarning();
        if (oversubscribed != null) {
            LOG.warning(oversubscribed);
        }
        // glibc's heap thresholds where a long-running process's end up, before the first request: the models free
        // each layer's temporaries as they go, and at the thresholds a fresh process starts with, glibc handed the
        // heap's free top back to the kernel after each such layer and faulted about 50 huge pages in again for
        // every request (docs/performance.md, "Nineteenth round")
        NativeHeap.settle();
        // and no malloc_trim(0) from JavaCV (each clip decoded, each mp3/Opus/AAC/FLAC encoded): it split the huge
        // pages under the models' tensors and made the flow 25-80% slower from then on (docs/performance.md,
        // "Twenty-eighth round")
        dev.localai.tts.core.nn.MallocTrimGuard.install();
        requireDevice(o.device());
        this.source = ModelSource.resolve(o.model(), o.allowDownload(), o.progress());
        WeightTypes.Plan w = WeightTypes.choose(o.dtype(), o.device(), DtypeProbe::cached);
        String kernels = o.device().isCuda() ? "" : useMachineKernels(DtypeProbe.cached());
        this.model = ChatterboxTurbo.fromPretrained(source.dir(), o.device(), w.t3(), w.flow(),
                w.flowAttentionFp32());
        model.t3().enablePrefixCache(o.prefixCacheBytes());
        LOG.info(() -> "weights: T3 " + WeightTypes.name(w.t3()) + ", S3Gen flow " + WeightTypes.name(w.flow())
                + " (attention: " + flowAttention(w.flow(), w.flowAttentionFp32(), o.device().isCuda()) + ")"
                + ", HiFT fp32" + kernels + " (" + w.why()
                + "); " + Torch.threads() + " intra-op threads"
                + (o.threads() > 0 ? " (configured)" : threads > 0 ? " (measured faster than LibTorch's "
                        + "default of " + Torch.defaultThreads() + ")" : "") + ", OpenBLAS threads "
                + Torch.blasThreads());
        try {
            this.voices = new Voices(model, o.voicesDir(), source.revision(), o.allowClipPaths(),
                    model::prepareConditionals);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        this.cache = new AudioCache<>(o.cacheBytes());
        this.firstPlan = new FirstBlockPlan(o.firstAudioTarget().toMillis(), Utterance.firstBlockFlow(model, o.flowSteps()));
        this.decoder = o.maxConcurrent() > 1 && batchPays(o.batchDecoding(), model)
                ? BatchDecoder.start(model.t3(), o.maxConcurrent()) : null;
        this.workers = new WorkerPool(o.maxConcurrent(), o.maxQueue());
        if (o.warmUp()) {
            warmUp();
        }
        // loading and the weight-type probe computed on this thread: its idle OpenMP workers would slow the
        // engine's own threads from now on (ThreadPools)
        ThreadPools.release();
    }

    /**
     * Seconds of the voice's S3Gen prompt that the latest streamed request's first block conditioned on: the whole
     * prompt (10 s for the built-in voice), unless {@link TtsOptions.Builder#firstAudioTarget} had it shortened to make
     * first audio sooner; NaN before any streamed request.
     */
    public double lastFirstBlockPromptSeconds() {
        FirstBlockPlan.Choice c = firstPlan.last();
        return c == null ? Double.NaN : c.promptTokens() / FirstBlockPlan.TOKENS_PER_SECOND;
    }

    /**
     * The S3Gen flow's mean-flow solver steps every synthesis runs: {@link TtsOptions.Builder#flowSteps}, or the
     * checkpoint's (Turbo: 2) where that is 0. A streamed first block may take fewer ({@link #lastFirstBlockFlowSteps}).
     */
    public int flowSteps() {
        return Utterance.flowSteps(model, options.flowSteps());
    }

    /**
     * The flow solver's steps in the latest streamed request's first block: {@link #flowSteps()}, unless
     * {@link TtsOptions.Builder#firstAudioTarget} had it take one to make first audio sooner; 0 before any streamed
     * request.
     */
    public int lastFirstBlockFlowSteps() {
        FirstBlockPlan.Choice c = firstPlan.last();
        return c == null ? 0 : c.steps();
    }

    /** Speech tokens of a streamed request's first flush with this engine's first block (the warm-up's length). */
    int firstFlushTokens() {
        return Utterance.firstFlushTokens(model, options.firstBlockTokens());
    }

    /** Text of the warm-up request: long enough that the real model speaks past the first flush's tokens. */
    static final String WARM_UP_TEXT = "Hello, and welcome. This is a short warm-up of the speech engine.";

    /**
     * One streamed request with the built-in voice whose only flush has the first block's size: the first request a
     * user streams then finds the kernels, primitives and code paths of its first block ready. After the former
     * warm-up (a whole 8-token synthesis, whose flow ran at another length) the first streamed request's first audio
     * came a median 129 ms later than the next three requests' (35-407 ms, seven processes), after this one 12 ms
     * (-37 to 162) (random weights at Turbo's sizes, a 2-core AMD EPYC Zen 5). It costs about what the former did: one
     * flow pass over the voice prompt and a block, T3 decoding 22 tokens instead of 8. Nothing it makes is kept in
     * the audio cache.
     */
    private void warmUp() {
        int tokens = firstFlushTokens();
        warmUpRequest(tokens);
        // it also measures how soon a first block comes (FirstBlockPlan), but as a process's first flow at that
        // length it runs slower than later ones (on a 2-core Zen 5 EPYC its first audio predicted 1.0-1.1 s where
        // requests then took 0.8). Where that would make first blocks cheaper (a shorter voice prompt, one flow step),
        // it is measured again warm, so that a machine that makes the target keeps the whole prompt in both steps
        if (firstPlan.wouldCheapen(tokens)) {
            firstPlan.forget();
            warmUpRequest(tokens);
        }
        cache.clear();
    }

    private void warmUpRequest(int tokens) {
        try (SpeechStream s = stream(SpeechRequest.builder(WARM_UP_TEXT).maxTokens(tokens).build())) {
            while (s.hasNext()) {
                s.next();
            }
        }
    }

    /**
     * A clear error, before any weights load, where a GPU is asked for that LibTorch cannot use (CPU natives, no GPU
     * or driver, or no GPU of that index); without it the first tensor moved there fails deep inside LibTorch.
     */
    static void requireDevice(Device device) {
        if (!device.isCuda()) {
            return;
        }
        if (!torch.cuda_is_available()) {
            throw new IllegalArgumentException("device " + device + " was asked for, but LibTorch sees no CUDA GPU "
                    + "(these are its CPU natives, or the machine has no GPU and driver): use cpu or auto, or the "
                    + "-Pcuda build on a GPU machine");
        }
        long gpus = torch.cuda_device_count();
        if (device.index() >= gpus) {
            throw new IllegalArgumentException("device " + device + " was asked for, but LibTorch sees " + gpus
                    + " GPU" + (gpus == 1 ? "" : "s") + " (cuda:0" + (gpus > 1 ? " to cuda:" + (gpus - 1) : "")
                    + ")");
        }
    }

    private static boolean batchPays(Boolean configured, ChatterboxTurbo model) {
        var c = model.t3().config();
        return batchPays(configured, model.device().isCuda(), WeightTypes.name(model.t3Dtype()),
                (long) c.nLayer() * c.nEmbd(), model.t3().int8RowsIndependent());
    }

    /**
     * Whether to batch T3 decode steps: as configured, else (auto) on a GPU, or on the CPU for a T3 at least the size of
     * Turbo's Nano variant (layers x width) whose batched kernels give each row the bits of one-row decoding: fp32, and
     * int8 on the native kernel ({@code int8RowsIndependent}, each row quantized on its own). A tiny T3's step is
     * dominated by per-call overhead and sampling, which batching serialises; a real one's by reading the weights,
     * which batching shares. bf16, and int8 on FBGEMM (one quantization for all rows), are batched only when asked for.
     */
    static boolean batchPays(Boolean configured, boolean cuda, String t3Dtype, long layersTimesWidth,
                             boolean int8RowsIndependent) {
        boolean rowExact = "fp32".equals(t3Dtype) || ("int8".equals(t3Dtype) && int8RowsIndependent);
        return configured != null ? configured : cuda || (rowExact && layersTimesWidth >= 12L * 768);
    }

    /**
     * A builder with the defaults: the official model from the Hugging Face cache, the CPU, and the weight types of
     * T3 and the S3Gen flow chosen by measurement on this machine ({@link WeightTypes}, {@link DtypeProbe}).
     */
    public static TtsOptions.Builder builder() {
        return new TtsOptions.Builder();
    }

    /** The options this engine was built with. */
    public TtsOptions options() {
        return options;
    }

    // ---------------------------------------------------------------- synthesis

    @Override
    public AudioClip synthesize(SpeechRequest request) {
        return synthesize(request, p -> { });
    }

    /** {@inheritDoc} <p>The same audio as {@link #synthesize(SpeechRequest)}, reported after each text chunk. */
    @Override
    public AudioClip synthesize(SpeechRequest request, Consumer<? super SynthesisProgress> progress) {
        long t0 = System.nanoTime();
        CacheKey key = CacheKey.of(request, voices.contentId(voiceIdOf(request)));
        AudioCache.Entry hit = cache.entry(key);
        if (hit != null) {
            long dt = System.nanoTime() - t0;
            float[] cached = hit.samples();
            SynthesisStats s = new SynthesisStats(hit.inputTokens(), hit.outputTokens(), cached.length / (double) SR,
                    dt, dt, 0);
            progress.accept(SynthesisProgress.of(s, true));
            return new AudioClip(cached, SR, s);
        }
        try (SynthesisJob job = submit(request, false)) {
            List<float[]> parts = new ArrayList<>();
            while (true) {
                AudioChunk c = job.take();
                if (c == null) {
                    break;
                }
                parts.add(c.samples());
                if (c.samples().length > 0 && !c.last()) {
                    progress.accept(SynthesisProgress.of(c.stats(), false));
                }
                if (c.last()) {
                    break;
                }
            }
            float[] all = ChunkJoiner.concat(parts);
            SynthesisStats s = job.stats();
            cache.put(key, all, s.inputTokens(), s.outputTokens());
            SynthesisStats stats = new SynthesisStats(s.inputTokens(), s.outputTokens(), all.length / (double) SR,
                    s.generationNanos(), s.generationNanos(), s.queueNanos(), s.textChunksDone(), s.textChunks());
            progress.accept(SynthesisProgress.of(stats, true));
            return new AudioClip(all, SR, stats);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>A request whose audio is in the cache is served from it at once, in half-second chunks.
     */
    @Override
    public SpeechStream stream(SpeechRequest request) {
        Objects.requireNonNull(request, "request");
        if (closed.get()) {
            throw EngineException.notReady("the engine is closed");
        }
        AudioCache.Entry hit = cache.entry(CacheKey.of(request, voices.contentId(voiceIdOf(request))));
        if (hit != null) {
            float[] cached = hit.samples();
            return new ClipStream(cached, SR / 2, new SynthesisStats(hit.inputTokens(), hit.outputTokens(),
                    cached.length / (double) SR, 0, 0, 0));
        }
        return submit(request, true);
    }

    /** The request as a reactive-streams publisher (each subscription synthesises it once). */
    public Flow.Publisher<AudioChunk> publisher(SpeechRequest request, Executor executor) {
        return new SpeechPublisher(this, request, executor);
    }

    private String voiceIdOf(SpeechRequest r) {
        return r.voiceId() == null ? BUILTIN_VOICE : r.voiceId();
    }

    private SynthesisJob submit(SpeechRequest request, boolean streaming) {
        Objects.requireNonNull(request, "request");
        if (closed.get()) {
            throw EngineException.notReady("the engine is closed");
        }
        PreparedVoice voice = voices.acquire(voiceIdOf(request));
        // a voice prepared here (first use) computed on the caller's thread: hand its idle OpenMP workers back
        ThreadPools.release();
        SynthesisJob job = new SynthesisJob(request, voice, streaming, this);
        live.add(job);
        try {
            job.started(workers.submit(job::run));
        } catch (RejectedExecutionException e) {
            job.releaseVoice();
            throw EngineException.busy("all " + options.maxConcurrent() + " synthesis slots and "
                    + options.maxQueue() + " queue places are taken", Duration.ofSeconds(2));
        }
        requests.incrementAndGet();
        return job;
    }

    // ---------------------------------------------------------------- what a job asks of the engine

    @Override
    public boolean closed() {
        return closed.get();
    }

    @Override
    public void produce(SynthesisJob job) {
        ChunkedSynthesis.run(model, decoder, options, firstPlan, job.request, job.voice, job.streaming, job,
                job::cancelled);
    }

    @Override
    public void active(boolean running) {
        if (running) {
            active.incrementAndGet();
        } else {
            active.decrementAndGet();
        }
    }

    @Override
    public void forget(SynthesisJob job) {
        live.remove(job);
    }

    @Override
    public void unqueue(Future<?> future) {
        workers.unqueue(future);
    }

    @Override
    public Duration stallTimeout() {
        return options.stallTimeout();
    }

    // ---------------------------------------------------------------- voices, health, info

    @Override
    public List<VoiceInfo> voices() {
        return voices.list();
    }

    @Override
    public VoiceInfo addVoice(String name, byte[] audio) {
        try {
            return voices.add(name, audio);
        } finally {
            // cloning computed on the caller's thread: hand its idle OpenMP workers back (ThreadPools)
            ThreadPools.release();
        }
    }

    @Override
    public boolean deleteVoice(String id) {
        return voices.delete(id);
    }

    @Override
    public VoiceInfo renameVoice(String id, String newName) {
        return voices.rename(id, newName);
    }

    /** Conditionals of a voice (for saving or inspection). */
    public Conditionals conditionals(String voiceId) {
        return voices.conditionals(voiceId);
    }

    @Override
    public EngineHealth health() {
        if (closed.get()) {
            return new EngineHealth(EngineHealth.State.CLOSED, "closed", 0, 0, -1, -1);
        }
        long rss = NativeMemory.residentBytes();
        return new EngineHealth(EngineHealth.State.READY, "ready", active.get(), workers.queued(), rss,
                NativeMemory.totalBytes());
    }

    @Override
    public ModelInfo modelInfo() {
        return new ModelInfo("chatterbox-turbo", source.description(), model.device().toString(),
                WeightTypes.name(model.t3Dtype()), SR);
    }

    /** Requests accepted since start. */
    public long requestCount() {
        return requests.get();
    }

    /**
     * Figures of batched T3 decoding: {batches, steps, meanBatchX100} (all 0 when the engine runs one request at
     * a time or batching is off). Mean batch size above 1 means concurrent requests shared decode steps.
     */
    public Map<String, Long> batchStats() {
        if (decoder == null) {
            return Map.of("batches", 0L, "steps", 0L, "meanBatchX100", 0L);
        }
        return Map.of("batches", decoder.batches(), "steps", decoder.steps(),
                "meanBatchX100", Math.round(decoder.meanBatch() * 100));
    }

    /** The audio cache's figures: {hits, misses, bytes}. */
    public Map<String, Long> cacheStats() {
        return Map.of("hits", cache.hits(), "misses", cache.misses(), "bytes", cache.bytes());
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (!workers.shutdown(30)) {
                LOG.warning("synthesis workers did not stop within 30 s; native memory is kept");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (SynthesisJob j : live) {
            j.abandon();
        }
        if (decoder != null) {
            decoder.close();
        }
        voices.close();
        model.close();
    }
}
