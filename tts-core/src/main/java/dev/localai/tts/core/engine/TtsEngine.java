package dev.localai.tts.core.engine;

import dev.localai.tts.core.audio.encode.TimeStretcher;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.EngineHealth;
import dev.localai.tts.core.engine.api.ModelInfo;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.SynthesisProgress;
import dev.localai.tts.core.engine.api.SynthesisStats;
import dev.localai.tts.core.engine.api.VoiceInfo;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.DtypeProbe;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.runtime.WeightTypes;
import dev.localai.tts.core.text.Pauses;
import dev.localai.tts.core.text.SentenceSplitter;
import dev.localai.tts.core.voice.Conditionals;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
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
 * <p>Long text is split at sentence boundaries into chunks the model handles well ({@link Builder#chunkChars}); every
 * chunk uses the same voice and a seed derived from the request's, trailing silence and hallucinated tails are cut at
 * the seams, and chunks are joined with a short equal-power crossfade. Requests without a seed use seed 0, so the
 * same request gives the same audio (and is served from the cache the second time).
 */
public final class TtsEngine implements SpeechSynthesizer {
    private static final Logger LOG = Logger.getLogger(TtsEngine.class.getName());
    /** Id of the voice shipped in {@code conds.pt}. */
    public static final String BUILTIN_VOICE = "default";
    private static final int SR = AudioClip.SAMPLE_RATE;

    private final Builder cfg;
    private final ModelSource.Resolved source;
    private final ChatterboxModel model;
    /** Steps the T3 sessions of concurrent requests together; null with one slot or batching off. */
    private final BatchDecoder decoder;
    private final Voices voices;
    private final ThreadPoolExecutor workers;
    private final AudioCache<CacheKey> cache;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong requests = new AtomicLong();
    /** Accepted requests not yet finished (so close() can give back the voices of those that never ran). */
    private final java.util.Set<Job> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private VoiceCloner cloner;

    private TtsEngine(Builder b) {
        this.cfg = b;
        Torch.init(b.threads);
        this.source = ModelSource.resolve(b.model, b.allowDownload, b.progress);
        Device device = b.device;
        WeightTypes.Plan w = WeightTypes.choose(b.dtype, device, DtypeProbe::cached);
        this.model = ChatterboxModel.load(source.dir(), device, w.t3(), w.flow());
        model.t3().enablePrefixCache(b.prefixCacheBytes);
        LOG.info(() -> "weights: T3 " + dtypeName(w.t3()) + ", S3Gen flow " + dtypeName(w.flow())
                + ", HiFT fp32 (" + w.why() + "); " + Torch.threads() + " intra-op threads, OpenBLAS threads "
                + Torch.blasThreads());
        try {
            this.voices = new Voices(model, b.voicesDir, source.revision(), b.allowClipPaths, this::cloneVoice);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        this.cache = new AudioCache<>(b.cacheBytes);
        this.decoder = b.maxConcurrent > 1 && batchPays(b.batchDecoding, model)
                ? BatchDecoder.start(model.t3(), b.maxConcurrent) : null;
        this.workers = new ThreadPoolExecutor(b.maxConcurrent, b.maxConcurrent, 30, TimeUnit.SECONDS,
                b.maxQueue == 0 ? new java.util.concurrent.SynchronousQueue<>() : new ArrayBlockingQueue<>(b.maxQueue),
                r -> {
                    Thread t = new Thread(r, "tts-worker");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        if (b.warmUp) {
            synthesize(SpeechRequest.builder("Hi.").maxTokens(8).build());
            cache.clear();
        }
    }

    /**
     * Whether to batch T3 decode steps: as configured, else (auto) on a GPU, or on the CPU for fp32 weights of a T3
     * at least the size of Turbo's Nano variant. A tiny T3's step is dominated by per-call overhead and sampling,
     * which batching serialises; a real one's by reading the weights, which batching shares. On the CPU only fp32
     * batched kernels give the bits of one-row decoding (bf16 ones round differently), so bf16 is batched only when
     * asked for: the default path stays bit-reproducible whatever the concurrency (docs/numerics.md).
     */
    private static boolean batchPays(Boolean configured, ChatterboxModel model) {
        var c = model.t3().config();
        return batchPays(configured, model.device().isCuda(), model.t3Dtype() == ScalarType.Float ? "fp32" : "bf16",
                (long) c.nLayer() * c.nEmbd());
    }

    /** {@link #batchPays(Boolean, ChatterboxModel)} on plain values: layers x width is the T3's size. */
    static boolean batchPays(Boolean configured, boolean cuda, String t3Dtype, long layersTimesWidth) {
        if (configured != null) {
            return configured;
        }
        return cuda || ("fp32".equals(t3Dtype) && layersTimesWidth >= 12L * 768);
    }

    /**
     * A builder with the defaults: the official model from the Hugging Face cache, the CPU, and the weight types of
     * T3 and the S3Gen flow chosen by measurement on this machine ({@link WeightTypes}, {@link DtypeProbe}).
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- synthesis

    @Override
    public AudioClip synthesize(SpeechRequest request) {
        return synthesize(request, p -> { });
    }

    /**
     * {@inheritDoc}
     *
     * <p>The same audio as {@link #synthesize(SpeechRequest)}, reported after each text chunk.
     */
    @Override
    public AudioClip synthesize(SpeechRequest request, java.util.function.Consumer<? super SynthesisProgress> progress) {
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
        try (Job job = submit(request, false)) {
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
            float[] all = concat(parts);
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
        java.util.Objects.requireNonNull(request, "request");
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
    public java.util.concurrent.Flow.Publisher<AudioChunk> publisher(SpeechRequest request,
            java.util.concurrent.Executor executor) {
        return new dev.localai.tts.core.engine.api.SpeechPublisher(this, request, executor);
    }

    private String voiceIdOf(SpeechRequest r) {
        return r.voiceId() == null ? BUILTIN_VOICE : r.voiceId();
    }

    private Job submit(SpeechRequest request, boolean streaming) {
        Objects.requireNonNull(request, "request");
        if (closed.get()) {
            throw EngineException.notReady("the engine is closed");
        }
        PreparedVoice voice = voices.acquire(voiceIdOf(request));
        Job job = new Job(request, voice, streaming);
        live.add(job);
        try {
            job.future = workers.submit(job::run);
        } catch (RejectedExecutionException e) {
            job.releaseVoice();
            throw EngineException.busy("all " + cfg.maxConcurrent + " synthesis slots and " + cfg.maxQueue
                    + " queue places are taken", Duration.ofSeconds(2));
        }
        requests.incrementAndGet();
        return job;
    }

    /** One request running on a worker, handing chunks to its consumer through a small bounded queue. */
    private final class Job implements SpeechStream {
        private final SpeechRequest request;
        private final PreparedVoice voice;
        private final boolean streaming;
        private final BlockingQueue<Object> out = new LinkedBlockingQueue<>(64);
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean voiceReleased = new AtomicBoolean();
        private final AtomicBoolean started = new AtomicBoolean();
        private final long acceptedAt = System.nanoTime();
        private volatile Future<?> future;
        private volatile long startedAt;
        private volatile long firstAudioAt;
        private volatile long inTokens;
        private volatile long outTokens;
        private volatile long samplesOut;
        private volatile long doneAt;
        private volatile int chunksTotal;
        private volatile int chunksDone;
        private AudioChunk pending;
        private TimeStretcher stretch;
        private boolean finished;
        private int index;
        private long offset;

        Job(SpeechRequest request, PreparedVoice voice, boolean streaming) {
            this.request = request;
            this.voice = voice;
            this.streaming = streaming;
        }

        /** Gives the voice reference back, once. */
        void releaseVoice() {
            if (voiceReleased.compareAndSet(false, true)) {
                voice.release();
            }
            live.remove(this);
        }

        /** At engine close: a job that never started gives its voice back and tells its consumer. */
        void abandon() {
            if (started.compareAndSet(false, true)) {
                releaseVoice();
                deliverEnd(EngineException.notReady("the engine was closed before this request started"));
            }
        }

        void run() {
            if (!started.compareAndSet(false, true)) {
                return;
            }
            startedAt = System.nanoTime();
            active.incrementAndGet();
            Object last;
            try {
                produce();
                last = END;
            } catch (CancellationException e) {
                // the caller's own cancel ends the stream quietly; an engine shutdown is an error the caller sees
                last = closed.get() && !cancelled.get()
                        ? EngineException.notReady("the engine was closed during this synthesis") : END;
            } catch (EngineException e) {
                last = e;
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "synthesis failed", e);
                last = new EngineException(EngineException.Kind.INTERNAL, "synthesis failed: " + e.getMessage(), null, e);
            } finally {
                // bookkeeping before the end marker, so a caller that saw the end sees the slot free
                doneAt = System.nanoTime();
                active.decrementAndGet();
                releaseVoice();
            }
            deliverEnd(last);
        }

        /**
         * Hands the end marker (or error) to the consumer whatever happens: a normal put, or — when this thread was
         * interrupted by an engine shutdown — dropping the audio still queued so the marker fits. Only a consumer
         * that cancelled itself gets nothing.
         */
        private void deliverEnd(Object last) {
            try {
                put(last);
            } catch (CancellationException e) {
                if (!cancelled.get()) {
                    out.clear();
                    out.offer(last);
                }
            }
        }

        private void produce() {
            List<Pauses.Part> parts = Pauses.split(request.text());
            chunksTotal = parts.stream().filter(Pauses.Speech.class::isInstance)
                    .mapToInt(sp -> SentenceSplitter.chunks(((Pauses.Speech) sp).text(), cfg.chunkChars).size()).sum();
            long seed = request.seed() == null ? 0L : request.seed();
            SamplingParams base = new SamplingParams(request.temperatureOrDefault(), request.topKOrDefault(),
                    request.topPOrDefault(), request.repetitionPenaltyOrDefault(), 1000);
            stretch = request.speed() == 1.0 ? null : new TimeStretcher(request.speed(), SR);
            ChunkJoiner joiner = new ChunkJoiner(samples -> emit(stretch == null ? samples : stretch.process(samples)));
            int i = 0; // chunk index over the whole text: seeds as without pause tags
            boolean afterPause = false;
            for (Pauses.Part part : parts) {
                if (part instanceof Pauses.Pause pause) {
                    // exact silence, outside the time-stretch: the speech before it leaves whole first
                    if (stretch != null) {
                        emit(stretch.finish());
                        stretch = new TimeStretcher(request.speed(), SR);
                    }
                    emit(new float[pause.samples(SR)]);
                    afterPause = true;
                    continue;
                }
                List<String> chunks = SentenceSplitter.chunks(((Pauses.Speech) part).text(), cfg.chunkChars);
                for (int k = 0; k < chunks.size(); k++, i++) {
                    String text = chunks.get(k);
                    int cap = request.maxTokens() != null ? request.maxTokens() : tokenCap(text);
                    Utterance.Params p = new Utterance.Params(base.withMaxGenLen(cap), seed + 7919L * i, streaming,
                            cfg.firstBlockTokens, cfg.maxBlockTokens);
                    // after a pause a chunk starts afresh: leading silence cut, no crossfade across the pause
                    joiner.beginChunk(i == 0 && !afterPause);
                    Utterance.Result r = Utterance.run(model, decoder, voice, text, p, joiner::accept,
                            () -> cancelled.get() || closed.get());
                    inTokens += r.textTokens();
                    outTokens += r.speechTokens();
                    joiner.endChunk(k == chunks.size() - 1);
                    chunksDone = i + 1;
                }
            }
            if (stretch != null) {
                emit(stretch.finish());
            }
        }

        private void emit(float[] samples) {
            if (samples.length == 0) {
                return;
            }
            if (firstAudioAt == 0) {
                firstAudioAt = System.nanoTime();
            }
            samplesOut += samples.length;
            put(samples);
        }

        private void put(Object o) {
            long stallSince = System.nanoTime();
            try {
                while (!out.offer(o, 100, TimeUnit.MILLISECONDS)) {
                    if (cancelled.get()) {
                        throw new CancellationException("synthesis cancelled");
                    }
                    if (System.nanoTime() - stallSince > cfg.stallTimeout.toNanos()) {
                        // the consumer stopped reading without closing the stream: free the slot
                        LOG.warning("a stream's consumer read nothing for " + cfg.stallTimeout + "; cancelling it");
                        cancelled.set(true);
                        out.clear();
                        throw new CancellationException("stream consumer stalled");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("interrupted");
            }
        }

        /** The next chunk (blocking), or null at the end. */
        AudioChunk take() {
            if (!hasNext()) {
                return null;
            }
            return next();
        }

        @Override
        public boolean hasNext() {
            if (pending != null) {
                return true;
            }
            if (finished || cancelled.get()) {
                return false;
            }
            Object o;
            try {
                o = out.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new CancellationException("interrupted while waiting for audio");
            }
            if (o == END) {
                finished = true;
                // an empty last chunk marks the end for consumers that look at last()
                pending = new AudioChunk(new float[0], index++, offset, true, stats());
                return true;
            }
            if (o instanceof EngineException e) {
                finished = true;
                throw e;
            }
            float[] s = (float[]) o;
            Object peek = out.peek();
            boolean last = peek == END;
            if (last) {
                out.poll();
                finished = true;
            }
            pending = new AudioChunk(s, index++, offset, last, stats());
            offset += s.length;
            return true;
        }

        @Override
        public AudioChunk next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            AudioChunk c = pending;
            pending = null;
            return c;
        }

        @Override
        public SynthesisStats stats() {
            long end = doneAt != 0 ? doneAt : System.nanoTime();
            long start = acceptedAt;
            long ttfa = firstAudioAt == 0 ? 0 : firstAudioAt - start;
            long queue = startedAt == 0 ? end - start : startedAt - start;
            return new SynthesisStats(inTokens, outTokens, samplesOut / (double) SR, end - start, ttfa, queue,
                    chunksDone, chunksTotal);
        }

        @Override
        public void close() {
            if (cancelled.compareAndSet(false, true)) {
                Future<?> f = future;
                if (f != null && !f.isDone()) {
                    f.cancel(false);
                    // a request still queued gives its queue place back at once
                    workers.remove((Runnable) f);
                }
                if (started.compareAndSet(false, true)) {
                    // never ran (and now never will): its voice reference is ours to give back
                    releaseVoice();
                }
                out.clear();
            }
        }
    }

    private static final Object END = new Object();

    /** Speech tokens allowed for a chunk: generous for its length (25 tokens per second of speech), at most 1000. */
    static int tokenCap(String text) {
        return (int) Math.min(1000, 50 + 6L * text.length());
    }

    static float[] concat(List<float[]> parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    // ---------------------------------------------------------------- voices, health, info

    @Override
    public List<VoiceInfo> voices() {
        return voices.list();
    }

    @Override
    public VoiceInfo addVoice(String name, byte[] audio) {
        return voices.add(name, audio);
    }

    @Override
    public boolean deleteVoice(String id) {
        return voices.delete(id);
    }

    @Override
    public VoiceInfo renameVoice(String id, String newName) {
        return voices.rename(id, newName);
    }

    /** Computes conditionals from a reference clip (the encoders are loaded on first use). */
    private Conditionals cloneVoice(Path clip) {
        VoiceCloner c;
        synchronized (this) {
            if (cloner == null) {
                cloner = VoiceCloner.load(source.dir());
            }
            c = cloner;
        }
        return c.fromClip(clip);
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
        return new EngineHealth(EngineHealth.State.READY, "ready", active.get(), workers.getQueue().size(), rss,
                NativeMemory.totalBytes());
    }

    @Override
    public ModelInfo modelInfo() {
        return new ModelInfo("chatterbox-turbo", source.description(), model.device().toString(),
                dtypeName(model.t3Dtype()), SR);
    }

    private static String dtypeName(ScalarType t) {
        return WeightTypes.name(t);
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
        workers.shutdownNow();
        try {
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warning("synthesis workers did not stop within 30 s; native memory is kept");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (Job j : live) {
            j.abandon();
        }
        if (decoder != null) {
            decoder.close();
        }
        voices.close();
        synchronized (this) {
            if (cloner != null) {
                cloner.close();
            }
        }
        model.close();
    }

    // ---------------------------------------------------------------- builder

    /** Configuration of a {@link TtsEngine}; every setting has a sensible default. */
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
        private Boolean batchDecoding;
        private Duration stallTimeout = Duration.ofSeconds(60);
        private java.io.PrintStream progress;

        private Builder() {}

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
         * Weight type of T3: {@code fp32}, {@code bf16} or {@code fp16}; on the CPU {@code bf16} also puts the S3Gen
         * flow in bf16 (HiFT and the voice encoders always run in fp32). Unset (the default) picks bf16 on a GPU
         * (T3 only) and, on a CPU, what a short measurement on this machine found fastest within the accuracy bound
         * ({@link WeightTypes}; measured once per machine and cached). An explicit value always wins;
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

        /** Intra-op CPU threads (0: LibTorch's default, one per core). */
        public Builder threads(int threads) {
            this.threads = threads;
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

        /** Requests that may wait for a slot before {@link EngineException.Kind#BUSY}. */
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
         * 80); blocks double in between. The first block leaves once its tokens plus the model's look-ahead (3
         * tokens for the flow, about 11 for the vocoder) have been generated.
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

        /** Where download progress goes (default: nowhere). */
        public Builder progress(java.io.PrintStream out) {
            this.progress = out;
            return this;
        }

        /** Resolves (and if needed downloads) the model and loads it. Blocks until the engine is ready. */
        public TtsEngine build() {
            return new TtsEngine(this);
        }
    }

    /** Identity of a finished clip. */
    private record CacheKey(String text, String voice, String format, double speed, long seed, double temperature,
            int topK, double topP, double repetitionPenalty, Integer maxTokens) {
        static CacheKey of(SpeechRequest r, String voiceContent) {
            return new CacheKey(r.text(), voiceContent, "pcm", r.speed(), r.seed() == null ? 0L : r.seed(),
                    r.temperatureOrDefault(), r.topKOrDefault(), r.topPOrDefault(), r.repetitionPenaltyOrDefault(),
                    r.maxTokens());
        }
    }

}
