package dev.localai.tts.core.model.t3;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One T3 generation, driven token by token (streaming) or all at once. Reproduces upstream's {@code inference_turbo}:
 *
 * <ol>
 *   <li>the first call prefills the whole input stream into a preallocated KV cache and samples the first token from
 *       the last position's logits, with the repetition-penalty history = [start token]; this first token is never
 *       checked for the stop token;</li>
 *   <li>each later call embeds the previous token, runs one cached GPT-2 step, processes the logits with the history
 *       = all generated tokens (start token excluded), stops if every processed logit is -inf, samples, and ends the
 *       generation after a stop token;</li>
 *   <li>at most 1 + maxGenLen tokens are produced (and never beyond GPT-2's learned positions).</li>
 * </ol>
 * {@link #next()} returns each token as it comes, including a final stop token; then {@link #END}. The KV cache and
 * all per-step buffers are allocated once, at the start. With a {@link BatchDecoder} the cached step of each call
 * runs batched with other sessions' steps on the decoder's thread (the caller blocks for it); everything else, and
 * sampling, stays on the caller's thread. Not thread-safe; close it to free its native memory.
 */
public final class T3Session implements AutoCloseable {
    /** Returned by {@link #next()} once the generation is over. */
    public static final int END = -1;

    private final T3 model;
    private final T3Config config;
    private final LogitsProcessor processor;
    private final TokenSampler sampler;
    private final BatchDecoder decoder;
    private boolean registered;
    private final int maxTokens;
    private final KvCache cache;
    private final DecodeBuffers buf;
    private final Tensor history;
    private final Tensor startHistory;
    private final Tensor lastLogits;
    private final Tensor lastProcessed;
    private final Tensor lastProbs;
    private Tensor inputsEmbeds;
    /** Positions copied from the voice's cached prefix (0: the first call prefills the whole stream). */
    private final int prefixLength;
    private final int[] tokens;
    private int count;
    private int pos;
    private boolean done;

    T3Session(T3 model, T3Cond cond, Tensor textTokens, SamplingParams params, TokenSampler sampler,
            BatchDecoder decoder) {
        this.model = model;
        this.decoder = decoder;
        this.config = model.config();
        this.processor = new LogitsProcessor(params);
        this.sampler = sampler;
        T3Prefix prefix = model.acquirePrefix(cond);
        this.prefixLength = prefix == null ? 0 : prefix.length();
        int l0;
        try {
            this.inputsEmbeds = prefix == null ? model.inputEmbeddings(cond, textTokens)
                    : model.suffixEmbeddings(textTokens);
            l0 = prefixLength + (int) inputsEmbeds.size(0);
            if (l0 > config.nPositions()) {
                inputsEmbeds.close();
                throw new IllegalArgumentException("input of " + l0 + " positions exceeds the model's "
                        + config.nPositions());
            }
        } catch (RuntimeException e) {
            if (prefix != null) {
                prefix.release();
            }
            throw e;
        }
        int steps = Math.min(params.maxGenLen(), config.nPositions() - l0);
        this.maxTokens = 1 + steps;
        try {
            KvCache pooled = decoder != null ? decoder.cacheFor(l0 + steps) : null;
            this.cache = pooled != null ? pooled : model.newCache(l0 + steps);
            if (prefix != null) {
                prefix.copyInto(cache);
            }
        } finally {
            if (prefix != null) {
                prefix.release();
            }
        }
        this.buf = model.newBuffers();
        this.tokens = new int[maxTokens];
        try (org.bytedeco.pytorch.Device dev = model.device().torchDevice();
             DeviceOptional devOpt = new DeviceOptional(dev);
             TensorOptions lo = new TensorOptions(ScalarType.Long);
             TensorOptions longOpts = lo.device(devOpt);
             TensorOptions fo = new TensorOptions(ScalarType.Float);
             TensorOptions floatOpts = fo.device(devOpt)) {
            this.history = torch.empty(new long[] {maxTokens}, longOpts, null).retainReference();
            try (Tensor start = Tensor.create(new long[] {config.startSpeechToken()}, 1)) {
                this.startHistory = start.to(dev, ScalarType.Long).retainReference();
            }
            this.lastLogits = torch.empty(new long[] {config.speechTokensDictSize()}, floatOpts, null)
                    .retainReference();
            this.lastProcessed = torch.empty(new long[] {config.speechTokensDictSize()}, floatOpts, null)
                    .retainReference();
            this.lastProbs = torch.empty(new long[] {config.speechTokensDictSize()}, floatOpts, null)
                    .retainReference();
        }
        if (decoder != null) {
            try {
                decoder.register();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            registered = true;
        }
    }

    /** The next token id, or {@link #END} when the generation is over. */
    public int next() {
        if (done) {
            return END;
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor hist;
            if (count == 0) {
                Tensor hidden = prefixLength == 0 ? model.prefillHidden(inputsEmbeds, cache)
                        : model.prefillHiddenFrom(inputsEmbeds, cache, prefixLength);
                pos = prefixLength + (int) inputsEmbeds.size(0);
                inputsEmbeds.close();
                inputsEmbeds = null;
                model.speechLogits(hidden.select(0, hidden.size(0) - 1), buf, lastLogits);
                hist = startHistory;
            } else {
                if (count >= maxTokens) {
                    done = true;
                    return END;
                }
                if (decoder != null) {
                    decoder.step(this, tokens[count - 1], pos);
                } else {
                    stepLocal(tokens[count - 1], pos);
                }
                pos++;
                hist = history.narrow(0, 0, count);
            }
            boolean anyFinite = processor.processInto(lastLogits, hist, lastProcessed);
            if (count > 0 && !anyFinite) {
                done = true;
                return END;
            }
            torch.softmax_out(lastProbs, lastProcessed, -1);
            int token = sampler.sample(lastProbs);
            if (history.is_cuda()) {
                history.select(0, count).fill_(new org.bytedeco.pytorch.Scalar(token));
            } else {
                history.data_ptr_long().put(count, token); // no kernel launch for one value
            }
            tokens[count++] = token;
            if ((count > 1 && token == config.stopSpeechToken()) || count >= maxTokens) {
                done = true;
            }
            return token;
        } finally {
            if (done) {
                leaveDecoder();
            }
        }
    }

    /** The unbatched decode step: {@code token} at {@code pos} -> raw logits in {@link #lastLogits}. */
    void stepLocal(int token, int pos) {
        Tensor hidden = model.stepHidden(token, pos, cache, buf);
        model.speechLogits(hidden, buf, lastLogits);
    }

    private void leaveDecoder() {
        if (registered) {
            registered = false;
            decoder.deregister();
        }
    }

    /** Runs to the end; returns every token with a trailing stop token removed (upstream's return value). */
    public int[] generateAll() {
        while (next() != END) {
            // keep going
        }
        int n = count;
        if (n > 0 && tokens[n - 1] == config.stopSpeechToken()) {
            n--;
        }
        return Arrays.copyOf(tokens, n);
    }

    /** Tokens generated so far, in order (a stop token included if one was drawn). */
    public int[] tokens() {
        return Arrays.copyOf(tokens, count);
    }

    public boolean isDone() {
        return done;
    }

    /** Raw speech logits (fp32 (V)) of the last step; a view owned by the session, overwritten by the next step. */
    public Tensor lastLogits() {
        return lastLogits;
    }

    /** Processed probabilities (fp32 (V)) the last token was drawn from; owned by the session. */
    public Tensor lastProbs() {
        return lastProbs;
    }

    /** The KV cache (its capacity is the prefill length + maxGenLen). */
    public KvCache cache() {
        return cache;
    }

    @Override
    public void close() {
        leaveDecoder();
        if (inputsEmbeds != null) {
            inputsEmbeds.close();
        }
        cache.close();
        buf.close();
        history.close();
        startHistory.close();
        lastLogits.close();
        lastProcessed.close();
        lastProbs.close();
    }
}
