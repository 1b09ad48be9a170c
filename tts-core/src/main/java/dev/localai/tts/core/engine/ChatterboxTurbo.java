package dev.localai.tts.core.engine;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.checkpoint.pickle.CondsPt;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.model.t3.BatchDecoder;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.text.TextFrontEnd;
import dev.localai.tts.core.voice.Conditionals;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Chatterbox Turbo, the model pipeline as upstream's {@code ChatterboxTurboTTS} ({@code tts_turbo.py}) lays it out:
 * {@link #fromPretrained load} the parts of a model directory (text front end, T3, the S3Gen flow, the HiFT vocoder,
 * the built-in voice of {@code conds.pt}), {@link #prepareConditionals prepare the conditionals} of a reference
 * clip, and {@link #generate generate} speech for one text with one voice, whole or {@link #generateStream streamed}
 * in blocks while T3 is still running.
 *
 * <p>Serving (queue, slots, batching across requests, long-text chunking, the cache) is {@link TtsEngine}'s.
 * Immutable after loading and safe to share between threads (the modules keep no per-call state; the voice
 * encoders are loaded on the first {@link #prepareConditionals} and serialise their calls).
 */
public final class ChatterboxTurbo implements AutoCloseable {
    private final Path dir;
    private final Device device;
    private final ScalarType t3Dtype;
    private final TextFrontEnd text;
    private final T3 t3;
    private final S3GenFlow flow;
    private final HiFTGenerator hift;
    private final Conditionals builtinVoice;
    private VoiceCloner cloner;

    private ChatterboxTurbo(Path dir, Device device, ScalarType t3Dtype, TextFrontEnd text, T3 t3, S3GenFlow flow,
            HiFTGenerator hift, Conditionals builtinVoice) {
        this.dir = dir;
        this.device = device;
        this.t3Dtype = t3Dtype;
        this.text = text;
        this.t3 = t3;
        this.flow = flow;
        this.hift = hift;
        this.builtinVoice = builtinVoice;
    }

    /**
     * Loads every part from a directory in the official layout (a Hugging Face snapshot or a tiny checkpoint).
     *
     * @param t3Dtype weights of T3: {@code Float} (default, the only fast choice on CPUs without bf16 units),
     *                {@code BFloat16} or {@code Half} (GPU)
     */
    public static ChatterboxTurbo fromPretrained(Path dir, Device device, ScalarType t3Dtype) {
        return fromPretrained(dir, device, t3Dtype, ScalarType.Float);
    }

    /**
     * {@link #fromPretrained(Path, Device, ScalarType)} with the S3Gen flow's weights in {@code flowDtype} ({@code Float}, or
     * {@code BFloat16} where the weight-type probe measured it faster, 3-4x on AMX). HiFT and the voice encoders stay fp32.
     */
    public static ChatterboxTurbo fromPretrained(Path dir, Device device, ScalarType t3Dtype, ScalarType flowDtype) {
        return fromPretrained(dir, device, t3Dtype, flowDtype, false);
    }

    /**
     * {@link #fromPretrained(Path, Device, ScalarType, ScalarType)} with the flow estimator's attention in fp32 when
     * {@code flowAttentionFp32} (a bf16 flow on a CPU where the weight-type probe found bf16 attention slow).
     */
    public static ChatterboxTurbo fromPretrained(Path dir, Device device, ScalarType t3Dtype, ScalarType flowDtype,
                                                 boolean flowAttentionFp32) {
        for (String f : new String[] {ChatterboxTurboFiles.T3, ChatterboxTurboFiles.S3GEN, ChatterboxTurboFiles.VOCAB,
                ChatterboxTurboFiles.MERGES}) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new dev.localai.tts.core.checkpoint.CheckpointException(
                        "model directory " + dir + " has no " + f + " (expected the ResembleAI/chatterbox-turbo layout)");
            }
        }
        TextFrontEnd text = TextFrontEnd.load(dir);
        T3 t3 = T3.load(dir.resolve(ChatterboxTurboFiles.T3), device, t3Dtype);
        S3GenFlow flow = null;
        HiFTGenerator hift = null;
        try (StateDict s3gen = StateDict.open(dir.resolve(ChatterboxTurboFiles.S3GEN), device)) {
            flow = S3GenFlow.load(s3gen, S3GenFlow.inferConfig(s3gen).withAttentionInFp32(flowAttentionFp32),
                    flowDtype);
            hift = HiFTGenerator.load(s3gen, HiftConfig.inferFrom(s3gen));
            Path conds = dir.resolve(ChatterboxTurboFiles.CONDS);
            Conditionals builtin = Files.isRegularFile(conds) ? builtinConditionals(CondsPt.read(conds)) : null;
            return new ChatterboxTurbo(dir, device, t3Dtype, text, t3, flow, hift, builtin);
        } catch (RuntimeException e) {
            t3.close();
            if (flow != null) {
                flow.close();
            }
            if (hift != null) {
                hift.close();
            }
            throw e;
        }
    }

    /** The built-in voice of {@code conds.pt} as a {@link Conditionals} value. */
    static Conditionals builtinConditionals(CondsPt c) {
        long[] featShape = c.promptFeat().shape();
        float emotion = c.emotionAdv() == null ? 0.5f : c.emotionAdv().toFloatArray()[0];
        long[] promptToken = c.promptToken().toLongArray();
        long[] len = c.promptTokenLen().toLongArray();
        return new Conditionals(c.speakerEmb().toFloatArray(), c.condPromptSpeechTokens().toLongArray(), emotion,
                promptToken, len.length > 0 ? len[0] : promptToken.length, c.promptFeat().toFloatArray(),
                (int) featShape[1], c.embedding().toFloatArray());
    }

    public Path dir() {
        return dir;
    }

    public Device device() {
        return device;
    }

    public ScalarType t3Dtype() {
        return t3Dtype;
    }

    /** The weight type of the S3Gen flow. */
    public ScalarType flowDtype() {
        return flow.dtype();
    }

    public TextFrontEnd text() {
        return text;
    }

    public T3 t3() {
        return t3;
    }

    public S3GenFlow flow() {
        return flow;
    }

    public HiFTGenerator hift() {
        return hift;
    }

    /** The voice of {@code conds.pt}, or null when the directory has none. */
    public Conditionals builtinVoice() {
        return builtinVoice;
    }

    /**
     * The conditionals of a reference clip (any format FFmpeg decodes, more than 5 s), as upstream's
     * {@code prepare_conditionals}: see {@link VoiceCloner}.
     */
    public Conditionals prepareConditionals(Path clip) {
        VoiceCloner c;
        synchronized (this) {
            if (cloner == null) {
                cloner = VoiceCloner.load(dir);
            }
            c = cloner;
        }
        return c.fromClip(clip);
    }

    /** Speech for one text (a few sentences) with one voice, whole: upstream's {@code generate}. */
    public float[] generate(String text, PreparedVoice voice, SamplingParams sampling, long seed) {
        List<float[]> parts = new ArrayList<>();
        generateStream(text, voice, new Utterance.Params(sampling, seed, false, 0, 0, 0), null, parts::add, () -> false);
        return ChunkJoiner.concat(parts);
    }

    /**
     * Speech for one text with one voice handed to {@code sink} as it becomes final (in blocks when
     * {@code params.streaming()}), T3's decode steps shared with other requests through {@code decoder} when it is
     * not null; {@code cancelled} is polled between steps.
     */
    public Utterance.Result generateStream(String text, PreparedVoice voice, Utterance.Params params,
                                           BatchDecoder decoder, Utterance.Sink sink, BooleanSupplier cancelled) {
        return Utterance.run(this, decoder, voice, text, params, sink, cancelled);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (cloner != null) {
                cloner.close();
            }
        }
        t3.close();
        flow.close();
        hift.close();
    }
}
