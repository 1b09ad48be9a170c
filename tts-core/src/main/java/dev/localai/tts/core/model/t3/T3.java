package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.nn.DecoderBlockKernel;
import dev.localai.tts.core.nn.Embedding;
import dev.localai.tts.core.nn.Int8Matrix;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Chatterbox Turbo's T3: text tokens plus conditionals to speech tokens. Module tree and field names follow the
 * checkpoint keys: {@code tfmr} (GPT-2), {@code cond_enc}, {@code text_emb}, {@code speech_emb}, {@code speech_head};
 * {@code tfmr.wte} and {@code text_head} are in the file but unused, so they are skipped explicitly.
 *
 * <p>The input stream is [speaker (1) | prompt speech (P) | text (T) | speech start (1)], positions counted across the
 * whole stream by GPT-2's {@code wpe}. Generation is a prefill then one cached step per token ({@link T3Session}).
 * Thread safety: the weights are read-only, so several sessions may run on one instance from different threads.
 */
public final class T3 implements AutoCloseable {
    /** First id that is not an S3 speech code (start/stop and above); upstream drops these before S3Gen. */
    public static final int SPEECH_VOCAB = 6561;
    /** S3Gen silence token appended three times after T3's output. */
    public static final int S3GEN_SIL = 4299;

    final GPT2Model tfmr;
    final T3CondEnc cond_enc;
    final Embedding text_emb;
    final Embedding speech_emb;
    final Linear speech_head;
    /**
     * {@code speech_head}'s weight in fp16 for decode steps where the blocks run as one native call (a step reads the
     * head whole: 27 MB in fp32); null otherwise. {@link #speechHead} (logits of many rows) keeps the fp32 head.
     */
    private final dev.localai.tts.core.nn.HalfMatrix speechHeadHalf;
    private final T3Config config;
    private final Device device;
    private final ScalarType dtype;
    /** Per-voice conditioning-prefix KV caches; null until {@link #enablePrefixCache} (then sessions use them). */
    private volatile PrefixCache prefixes;
    private final Weights weights = new Weights();

    /** True when the GPT-2 blocks' four matrices are {@link dev.localai.tts.core.nn.Int8Matrix int8}. */
    private final boolean int8;

    private T3(ParamSource source, T3Config c, Device device, boolean int8) {
        ParamSource p = weights.track(source);
        this.config = c;
        this.device = device;
        this.dtype = p.dtype();
        if (int8 && (device.isCuda() || dtype.value != ScalarType.Float.value)) {
            throw new IllegalArgumentException("int8 T3 weights are made from fp32 weights on the CPU");
        }
        this.int8 = int8;
        this.tfmr = new GPT2Model(p.sub("tfmr"), c, int8);
        if (int8) {
            // FBGEMM packs each matrix on one core: the 96 of them together, over all cores
            java.util.List<dev.localai.tts.core.nn.Int8Matrix> matrices = new java.util.ArrayList<>();
            for (GPT2Block b : tfmr.h) {
                matrices.add(b.attn.c_attn.int8);
                matrices.add(b.attn.c_proj.int8);
                matrices.add(b.mlp.c_fc.int8);
                matrices.add(b.mlp.c_proj.int8);
            }
            // (work per matrix: its elements, so the split always pays)
            SplitGemm.shared().forEachPart(matrices.size(), c.nEmbd() * (long) c.nInner(), (from, n) -> {
                for (long i = from; i < from + n; i++) {
                    matrices.get((int) i).pack();
                }
            });
        }
        this.cond_enc = new T3CondEnc(p.sub("cond_enc"), c);
        this.text_emb = new Embedding(p.sub("text_emb"), c.textTokensDictSize(), c.nEmbd());
        this.speech_emb = new Embedding(p.sub("speech_emb"), c.speechTokensDictSize(), c.nEmbd());
        p.skip("text_head.weight");
        this.speech_head = new Linear(p.sub("speech_head"), c.nEmbd(), c.speechTokensDictSize(), true);
        this.speechHeadHalf = int8 && tfmr.fusable()
                && dev.localai.tts.core.nn.HalfMatrix.available()
                ? dev.localai.tts.core.nn.HalfMatrix.of(speech_head.weight, p) : null;
    }

    /** Whether decode steps take the fp16 speech head now (with the fused blocks). */
    private boolean halfHead() {
        return speechHeadHalf != null && DecoderBlockKernel.enabled();
    }

    /**
     * Builds T3 from a checkpoint view (root of {@code t3_turbo_v1.safetensors}) and proves every key was used or
     * deliberately skipped. Weights come in the view's dtype.
     */
    public static T3 load(StateDict sd, T3Config c, ScalarType dtype) {
        T3 t3 = new T3(ParamSource.of(sd), c, sd.device(), dtype.value == ScalarType.Char.value);
        try {
            sd.requireAllConsumed();
        } catch (RuntimeException e) {
            t3.close();
            throw e;
        }
        return t3;
    }

    /**
     * Loads a T3 file on {@code device} with weights in {@code dtype}: {@code Float}, {@code BFloat16}, {@code Half}
     * (GPU), or {@code Char} for int8 weights on the CPU (the GPT-2 blocks' matrices as
     * {@link dev.localai.tts.core.nn.Int8Matrix}, everything else and all activations fp32). The config is inferred
     * from the tensor shapes.
     */
    public static T3 load(Path file, Device device, ScalarType dtype) {
        ScalarType stored = dtype.value == ScalarType.Char.value ? ScalarType.Float : dtype;
        try (SafeTensors st = SafeTensors.open(file);
             StateDict sd = StateDict.of(st, device, stored, false)) {
            return load(sd, T3Config.fromCheckpoint(st), dtype);
        }
    }

    /** Loads {@code t3_turbo_v1.safetensors} from an official model directory in fp32. */
    public static T3 loadFromModelDir(Path modelDir, Device device) {
        return load(modelDir.resolve("t3_turbo_v1.safetensors"), device, ScalarType.Float);
    }

    /** Builds T3 from any weight source (random weights for benchmarks). */
    public static T3 create(ParamSource p, T3Config c, Device device) {
        return new T3(p, c, device, false);
    }

    /** {@link #create(ParamSource, T3Config, Device)} with the blocks' matrices made int8 from fp32 {@code p}. */
    public static T3 create(ParamSource p, T3Config c, Device device, boolean int8) {
        return new T3(p, c, device, int8);
    }

    public T3Config config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** The type of activations, the KV cache and the weights that are not int8 ({@code Float} for int8 weights). */
    public ScalarType dtype() {
        return dtype;
    }

    /** The weights' type as loaded: {@link #dtype()}, or {@code Char} when the blocks' matrices are int8. */
    public ScalarType weightType() {
        return int8 ? ScalarType.Char : dtype;
    }

    /**
     * Whether the blocks' matrices are int8 on the native kernel ({@link dev.localai.tts.core.nn.Int8Kernel}), which
     * quantizes each input row on its own: a batched row then gets the bits it gets alone.
     */
    public boolean int8RowsIndependent() {
        return int8 && java.util.Arrays.stream(tfmr.h).allMatch(b -> java.util.stream.Stream.of(b.attn.c_attn,
                b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj).allMatch(c -> c.int8.kernel() == Int8Matrix.Kernel.NATIVE));
    }

    /**
     * Every key of the official T3 file and its shape, in upstream's module order: {@code tfmr.wte}, {@code tfmr.wpe},
     * the blocks, {@code tfmr.ln_f}, {@code cond_enc.spkr_enc}, {@code text_emb}, {@code speech_emb},
     * {@code text_head}, {@code speech_head}. Conv1D weights are (in, out).
     */
    public static LinkedHashMap<String, long[]> stateDictShapes(T3Config c) {
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        long d = c.nEmbd();
        m.put("tfmr.wte.weight", new long[] {c.gpt2VocabSize(), d});
        m.put("tfmr.wpe.weight", new long[] {c.nPositions(), d});
        for (int i = 0; i < c.nLayer(); i++) {
            String b = "tfmr.h." + i + ".";
            m.put(b + "ln_1.weight", new long[] {d});
            m.put(b + "ln_1.bias", new long[] {d});
            m.put(b + "attn.c_attn.weight", new long[] {d, 3 * d});
            m.put(b + "attn.c_attn.bias", new long[] {3 * d});
            m.put(b + "attn.c_proj.weight", new long[] {d, d});
            m.put(b + "attn.c_proj.bias", new long[] {d});
            m.put(b + "ln_2.weight", new long[] {d});
            m.put(b + "ln_2.bias", new long[] {d});
            m.put(b + "mlp.c_fc.weight", new long[] {d, c.nInner()});
            m.put(b + "mlp.c_fc.bias", new long[] {c.nInner()});
            m.put(b + "mlp.c_proj.weight", new long[] {c.nInner(), d});
            m.put(b + "mlp.c_proj.bias", new long[] {d});
        }
        m.put("tfmr.ln_f.weight", new long[] {d});
        m.put("tfmr.ln_f.bias", new long[] {d});
        m.put("cond_enc.spkr_enc.weight", new long[] {d, c.speakerEmbedSize()});
        m.put("cond_enc.spkr_enc.bias", new long[] {d});
        m.put("text_emb.weight", new long[] {c.textTokensDictSize(), d});
        m.put("speech_emb.weight", new long[] {c.speechTokensDictSize(), d});
        m.put("text_head.weight", new long[] {c.textTokensDictSize(), d});
        m.put("speech_head.weight", new long[] {c.speechTokensDictSize(), d});
        m.put("speech_head.bias", new long[] {c.speechTokensDictSize()});
        return m;
    }

    /**
     * The conditioning embeddings (1 + P, D): {@code spkr_enc(speaker)} then {@code speech_emb(prompt tokens)}.
     * The caller owns the result.
     */
    public Tensor condEmbeddings(T3Cond cond) {
        try (PointerScope scope = new PointerScope()) {
            return condEmbeddingsIn(cond).retainReference();
        }
    }

    private Tensor condEmbeddingsIn(T3Cond cond) {
        Tensor spk = cond_enc.speaker(onDevice(cond.speakerEmb(), dtype));
        Tensor prompt = cond.promptSpeechTokens();
        if (prompt == null || prompt.numel() == 0) {
            return spk;
        }
        Tensor ids = checkedIds(prompt, config.speechTokensDictSize(), "prompt speech token");
        return torch.cat(new TensorVector(spk, speech_emb.forward(ids)), 0);
    }

    /**
     * The prefill input embeddings (L0, D) = [cond (1 + P) | text_emb(text) (T) | speech_emb(start) (1)], before
     * positions are added. The caller owns the result.
     */
    public Tensor inputEmbeddings(T3Cond cond, Tensor textTokens) {
        try (PointerScope scope = new PointerScope()) {
            return inputEmbeddingsIn(cond, textTokens).retainReference();
        }
    }

    Tensor inputEmbeddingsIn(T3Cond cond, Tensor textTokens) {
        Tensor condEmb = condEmbeddingsIn(cond);
        Tensor text = text_emb.forward(checkedIds(textTokens, config.textTokensDictSize(), "text token"));
        Tensor start = speech_emb.row(config.startSpeechToken()).unsqueeze(0);
        return torch.cat(new TensorVector(condEmb, text, start), 0);
    }

    /**
     * Keeps the KV cache of each voice's conditioning prefix ({@link T3Prefix}) for reuse by later sessions of that
     * voice, up to {@code budgetBytes} (least recently used out; 0 turns it off). A session started with a cached
     * prefix copies it and prefills only [text | start]: mathematically the same stream, rounded slightly
     * differently (see {@code T3PrefixTest}); off by default, so the golden parity tests run the whole prefill.
     */
    public void enablePrefixCache(long budgetBytes) {
        PrefixCache old = prefixes;
        prefixes = budgetBytes > 0 ? new PrefixCache(budgetBytes) : null;
        if (old != null) {
            old.clear();
        }
    }

    /** Drops the cached prefix of a voice's conditionals (call when the voice goes). */
    public void forgetPrefix(T3Cond cond) {
        PrefixCache p = prefixes;
        if (p != null) {
            p.forget(cond);
        }
    }

    /** Bytes of cached prefixes (0 when off). */
    public long prefixCacheBytes() {
        PrefixCache p = prefixes;
        return p == null ? 0 : p.bytes();
    }

    /**
     * The cached prefix of {@code cond}, acquired (release it), computed now on a miss; null when the cache is off,
     * the voice has no prompt or the budget cannot hold it.
     */
    T3Prefix acquirePrefix(T3Cond cond) {
        PrefixCache p = prefixes;
        if (p == null || cond.promptSpeechTokens() == null || cond.promptSpeechTokens().numel() == 0) {
            return null;
        }
        return p.acquire(cond, this::buildPrefix);
    }

    /** Runs GPT-2 over the conditioning embeddings into a cache of exactly their length. */
    T3Prefix buildPrefix(T3Cond cond) {
        try (PointerScope scope = new PointerScope()) {
            Tensor emb = condEmbeddingsIn(cond);
            KvCache cache = newCache((int) emb.size(0));
            try {
                tfmr.prefill(emb, cache);
            } catch (RuntimeException e) {
                cache.close();
                throw e;
            }
            return new T3Prefix(cache);
        }
    }

    /** [text_emb(text) (T) | speech_emb(start) (1)]: what follows a voice's prefix. The caller owns the result. */
    Tensor suffixEmbeddings(Tensor textTokens) {
        try (PointerScope scope = new PointerScope()) {
            Tensor text = text_emb.forward(checkedIds(textTokens, config.textTokensDictSize(), "text token"));
            Tensor start = speech_emb.row(config.startSpeechToken()).unsqueeze(0);
            return torch.cat(new TensorVector(text, start), 0).retainReference();
        }
    }

    /** GPT-2 over positions from..: inputs_embeds (L, D) after a cache holding rows 0..from-1. */
    Tensor prefillHiddenFrom(Tensor inputsEmbeds, KvCache cache, int from) {
        return tfmr.prefillFrom(inputsEmbeds, cache, from);
    }

    /**
     * A preallocated KV cache for {@code capacity} positions: in the model's dtype, or where the blocks run their
     * decode steps as one native call (int8 T3 on this project's kernels) in {@link DecoderBlockKernel#cacheType()}.
     */
    public KvCache newCache(int capacity) {
        try (org.bytedeco.pytorch.Device dev = device.torchDevice()) {
            return new KvCache(config.nLayer(), config.nHead(), config.headDim(), capacity, cacheType(), dev);
        }
    }

    /** The element type of caches made now ({@link #newCache}; {@code Char}: int8 with row scales). */
    ScalarType cacheType() {
        if (!tfmr.fusable() || !DecoderBlockKernel.enabled()) {
            return dtype;
        }
        return switch (DecoderBlockKernel.cacheType()) {
            case INT8 -> ScalarType.Char;
            case FP16 -> ScalarType.Half;
            case FP32 -> ScalarType.Float;
        };
    }

    DecodeBuffers newBuffers() {
        try (org.bytedeco.pytorch.Device dev = device.torchDevice()) {
            return new DecodeBuffers(config, dtype, dev);
        }
    }

    /** GPT-2 over the whole prefill: inputs_embeds (L0, D) -> hidden states after ln_f (L0, D); fills {@code cache}. */
    public Tensor prefillHidden(Tensor inputsEmbeds, KvCache cache) {
        return tfmr.prefill(inputsEmbeds, cache);
    }

    /** Speech logits of one hidden state (D) as fp32 (V), into {@code out}. */
    void speechLogits(Tensor hidden, DecodeBuffers buf, Tensor out) {
        if (halfHead() && hidden.is_contiguous()) {
            speechHeadHalf.forwardRows(hidden.view(1, config.nEmbd()), speech_head.bias,
                    buf.logits.view(1, config.speechTokensDictSize()));
        } else {
            SplitGemm.shared().mv(speech_head.weight, speech_head.bias, hidden, buf.logits);
        }
        out.copy_(buf.logits);
    }

    /** Hidden state (D) of the next speech token at {@code pos} (the cache length). */
    Tensor stepHidden(int token, int pos, KvCache cache, DecodeBuffers buf) {
        return tfmr.step(speech_emb.row(token), pos, cache, buf);
    }

    /**
     * Buffers for batched decode steps of up to {@code maxBatch} sessions, the CPU matrix products split over
     * {@code gemmThreads} threads.
     */
    BatchBuffers newBatchBuffers(int maxBatch, int gemmThreads, boolean pooled) {
        try (org.bytedeco.pytorch.Device dev = device.torchDevice()) {
            ScalarType poolType = cacheType() == ScalarType.Char ? ScalarType.Half : cacheType(); // slots: no int8
            KvPool pool = pooled ? new KvPool(config, maxBatch, Math.min(config.nPositions(), KV_POOL_POSITIONS),
                    poolType, dev) : null;
            try {
                return new BatchBuffers(config, maxBatch, dtype, dev, gemmThreads, pool);
            } catch (RuntimeException e) {
                if (pool != null) {
                    pool.close();
                }
                throw e;
            }
        }
    }

    /**
     * Positions of one slot of a batched decoder's KV pool ({@link KvPool}, on a GPU): an engine chunk needs at most
     * its voice prompt (375), its text and 1 000 speech tokens. A longer session gets a cache of its own.
     */
    static final int KV_POOL_POSITIONS = 2048;

    /**
     * One batched decode step: the previous token {@code tokens[i]} of session i at position {@code pos[i]} (the
     * length of {@code caches[i]}) -> speech logits (n, V) in the model dtype, a view of {@code bb.logits}.
     */
    Tensor stepLogitsRows(int n, int[] tokens, int[] pos, KvCache[] caches, BatchBuffers bb) {
        KvPool.Rows rows = null;
        if (bb.pool != null) {
            try (org.bytedeco.pytorch.Device dev = device.torchDevice()) {
                rows = bb.pool.rows(n, tokens, pos, caches, dev);
            }
        }
        Tensor hidden;
        if (rows != null) {
            // every row's cache is a slot of the pool: a few launches per layer whatever n is
            torch.index_select_out(BatchBuffers.rows(bb.x, n), speech_emb.weight, 0, rows.tokens);
            hidden = tfmr.stepRowsPooled(n, pos, caches, bb, rows);
        } else {
            for (int i = 0; i < n; i++) {
                bb.x.select(0, i).copy_(speech_emb.row(tokens[i]));
            }
            hidden = tfmr.stepRows(n, pos, caches, bb);
        }
        Tensor logits = BatchBuffers.rows(bb.logits, n);
        if (halfHead() && hidden.is_contiguous()) {
            // a row's logits are the bits it gets alone
            speechHeadHalf.forwardRows(hidden, speech_head.bias, logits);
        } else {
            Conv1D.forwardRows(speech_head.weight, speech_head.bias, hidden, logits, bb.scratch, bb.gemm);
        }
        return logits;
    }

    /** Speech logits for every row of hidden states (L, D) -> (L, V) in the model dtype. */
    public Tensor speechHead(Tensor hidden) {
        return speech_head.forward(hidden);
    }

    /** Starts a generation; drive it with {@link T3Session#next()}. The session owns its cache: close it. */
    public T3Session start(T3Cond cond, Tensor textTokens, SamplingParams params, TokenSampler sampler) {
        return new T3Session(this, cond, textTokens, params, sampler, null);
    }

    /** Starts a generation from text ids. */
    public T3Session start(T3Cond cond, int[] textTokens, SamplingParams params, TokenSampler sampler) {
        return start(cond, textTokens, params, sampler, null);
    }

    /**
     * Starts a generation whose decode steps run through {@code decoder} (batched with the steps of other sessions
     * on the same decoder), or one by one when {@code decoder} is null. The tokens are the same either way up to
     * floating-point rounding of the batched matrix products.
     */
    public T3Session start(T3Cond cond, int[] textTokens, SamplingParams params, TokenSampler sampler,
            BatchDecoder decoder) {
        if (decoder != null && decoder.model() != this) {
            throw new IllegalArgumentException("the decoder belongs to another T3");
        }
        try (Tensor t = longTensor(textTokens)) {
            return new T3Session(this, cond, t, params, sampler, decoder);
        }
    }

    /**
     * Upstream's {@code inference_turbo}: every token generated (the first from the prefill, then up to
     * {@code maxGenLen} more, stopping after the stop token), with a trailing stop token removed.
     */
    public int[] generate(T3Cond cond, int[] textTokens, SamplingParams params, TokenSampler sampler) {
        try (T3Session s = start(cond, textTokens, params, sampler)) {
            return s.generateAll();
        }
    }

    /**
     * What upstream's {@code generate} hands to S3Gen: only ids below 6561 (start/stop dropped anywhere), then three
     * silence tokens.
     */
    public static int[] toS3GenTokens(int[] t3Tokens) {
        List<Integer> out = new ArrayList<>(t3Tokens.length + 3);
        for (int t : t3Tokens) {
            if (t < SPEECH_VOCAB) {
                out.add(t);
            }
        }
        for (int i = 0; i < 3; i++) {
            out.add(S3GEN_SIL);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static Tensor longTensor(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return Tensor.create(l, ids.length);
    }

    private Tensor onDevice(Tensor t, ScalarType type) {
        try (org.bytedeco.pytorch.Device dev = device.torchDevice()) {
            return t.to(dev, type);
        }
    }

    /** Flattened int64 ids on the model device, each checked to lie in [0, limit). */
    private Tensor checkedIds(Tensor ids, int limit, String what) {
        Tensor flat = onDevice(ids, ScalarType.Long).reshape(-1);
        if (flat.numel() > 0) {
            long min = flat.min().item_long();
            long max = flat.max().item_long();
            if (min < 0 || max >= limit) {
                throw new IllegalArgumentException(what + " ids must lie in [0, " + limit + "): got " + min + ".." + max);
            }
        }
        return flat;
    }

    @Override
    public void close() {
        PrefixCache p = prefixes;
        if (p != null) {
            p.clear();
        }
        weights.close();
    }
}
