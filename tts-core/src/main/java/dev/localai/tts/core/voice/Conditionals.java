package dev.localai.tts.core.voice;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.DType;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.TensorInfo;
import dev.localai.tts.core.checkpoint.pickle.CondsPt;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * Everything a voice contributes to synthesis, as upstream's {@code Conditionals} (what {@code conds.pt} holds):
 *
 * <ul>
 *   <li>T3 side: {@code speaker_emb} (1, 256) VoiceEncoder embedding; {@code cond_prompt_speech_tokens} (1, P),
 *       P &le; 375, S3 tokens of the first 15 s; {@code emotion_adv} (1, 1, 1), ignored by Turbo but kept.</li>
 *   <li>S3Gen side: {@code prompt_token} (1, P2) and {@code prompt_token_len} (1,), S3 tokens of the first 10 s;
 *       {@code prompt_feat} (1, M, 80) time-first 24 kHz log-mel of the same 10 s; {@code embedding} (1, 192)
 *       CAMPPlus x-vector. ({@code prompt_feat_len} is always None upstream and is not stored.)</li>
 * </ul>
 *
 * Immutable: arrays are copied in and out. Stored as safetensors under the same dotted names ({@code t3.speaker_emb},
 * {@code gen.prompt_feat}, ...) with integer tokens kept int64.
 */
public final class Conditionals {

    /** Value of the {@code format} metadata entry of a saved file. */
    public static final String FORMAT = "localai-chatterbox-conditionals/1";

    public static final String SPEAKER_EMB = "t3.speaker_emb";
    public static final String COND_PROMPT_SPEECH_TOKENS = "t3.cond_prompt_speech_tokens";
    public static final String EMOTION_ADV = "t3.emotion_adv";
    public static final String PROMPT_TOKEN = "gen.prompt_token";
    public static final String PROMPT_TOKEN_LEN = "gen.prompt_token_len";
    public static final String PROMPT_FEAT = "gen.prompt_feat";
    public static final String EMBEDDING = "gen.embedding";

    private final float[] speakerEmb;
    private final long[] condPromptSpeechTokens;
    private final float emotionAdv;
    private final long[] promptToken;
    private final long promptTokenLen;
    private final float[] promptFeat;
    private final int promptFeatFrames;
    private final int melBins;
    private final float[] embedding;

    /**
     * @param speakerEmb             VoiceEncoder embedding (256)
     * @param condPromptSpeechTokens T3 prompt speech tokens (P &le; 375, may be empty)
     * @param emotionAdv             upstream's exaggeration value (0.5 by default)
     * @param promptToken            S3Gen prompt tokens (P2)
     * @param promptTokenLen         their valid length (P2 upstream)
     * @param promptFeat             S3Gen prompt mel, time-first, {@code promptFeatFrames * melBins} values
     * @param promptFeatFrames       frames M of the prompt mel
     * @param embedding              CAMPPlus x-vector (192)
     */
    public Conditionals(float[] speakerEmb, long[] condPromptSpeechTokens, float emotionAdv, long[] promptToken,
            long promptTokenLen, float[] promptFeat, int promptFeatFrames, float[] embedding) {
        Objects.requireNonNull(speakerEmb, "speakerEmb");
        Objects.requireNonNull(condPromptSpeechTokens, "condPromptSpeechTokens");
        Objects.requireNonNull(promptToken, "promptToken");
        Objects.requireNonNull(promptFeat, "promptFeat");
        Objects.requireNonNull(embedding, "embedding");
        if (speakerEmb.length == 0 || embedding.length == 0) {
            throw new IllegalArgumentException("empty speaker embedding");
        }
        if (promptFeatFrames < 0 || (promptFeatFrames == 0 ? promptFeat.length != 0
                : promptFeat.length % promptFeatFrames != 0)) {
            throw new IllegalArgumentException("prompt_feat of " + promptFeat.length + " values is not "
                    + promptFeatFrames + " frames");
        }
        if (promptTokenLen < 0 || promptTokenLen > promptToken.length) {
            throw new IllegalArgumentException("prompt_token_len " + promptTokenLen + " outside 0.."
                    + promptToken.length);
        }
        this.speakerEmb = speakerEmb.clone();
        this.condPromptSpeechTokens = condPromptSpeechTokens.clone();
        this.emotionAdv = emotionAdv;
        this.promptToken = promptToken.clone();
        this.promptTokenLen = promptTokenLen;
        this.promptFeat = promptFeat.clone();
        this.promptFeatFrames = promptFeatFrames;
        this.melBins = promptFeatFrames == 0 ? 0 : promptFeat.length / promptFeatFrames;
        this.embedding = embedding.clone();
    }

    public float[] speakerEmb() {
        return speakerEmb.clone();
    }

    public long[] condPromptSpeechTokens() {
        return condPromptSpeechTokens.clone();
    }

    public float emotionAdv() {
        return emotionAdv;
    }

    public long[] promptToken() {
        return promptToken.clone();
    }

    public long promptTokenLen() {
        return promptTokenLen;
    }

    /** Time-first (M, melBins) row-major. */
    public float[] promptFeat() {
        return promptFeat.clone();
    }

    public int promptFeatFrames() {
        return promptFeatFrames;
    }

    public int melBins() {
        return melBins;
    }

    public float[] embedding() {
        return embedding.clone();
    }

    /** A copy with another {@code emotion_adv} (upstream's exaggeration). */
    public Conditionals withEmotionAdv(float value) {
        return new Conditionals(speakerEmb, condPromptSpeechTokens, value, promptToken, promptTokenLen, promptFeat,
                promptFeatFrames, embedding);
    }

    // ---- tensors (owned, float32 / int64, CPU; the caller closes them) ----

    /** (1, 256) float32. */
    public Tensor speakerEmbTensor() {
        return TensorArrays.tensor(speakerEmb, 1, speakerEmb.length);
    }

    /** (1, P) int64. */
    public Tensor condPromptSpeechTokensTensor() {
        return TensorArrays.tensor(condPromptSpeechTokens, 1, condPromptSpeechTokens.length);
    }

    /** (1, 1, 1) float32. */
    public Tensor emotionAdvTensor() {
        return TensorArrays.tensor(new float[] {emotionAdv}, 1, 1, 1);
    }

    /** (1, P2) int64. */
    public Tensor promptTokenTensor() {
        return TensorArrays.tensor(promptToken, 1, promptToken.length);
    }

    /** (1,) int64. */
    public Tensor promptTokenLenTensor() {
        return TensorArrays.tensor(new long[] {promptTokenLen}, 1);
    }

    /** (1, M, melBins) float32, time-first as upstream stores it. */
    public Tensor promptFeatTensor() {
        return TensorArrays.tensor(promptFeat, 1, promptFeatFrames, melBins);
    }

    /** (1, 192) float32. */
    public Tensor embeddingTensor() {
        return TensorArrays.tensor(embedding, 1, embedding.length);
    }

    // ---- conds.pt (the built-in voice) ----

    /** The conditionals held by an upstream {@code conds.pt} (read with {@link CondsPt#read}). */
    public static Conditionals from(CondsPt pt) {
        long[] featShape = pt.promptFeat().shape();
        if (featShape.length != 3 || featShape[0] != 1) {
            throw new CheckpointException("conds.pt: prompt_feat has shape " + Arrays.toString(featShape));
        }
        long[] len = pt.promptTokenLen().toLongArray();
        if (len.length != 1) {
            throw new CheckpointException("conds.pt: prompt_token_len must hold one value");
        }
        float emo = pt.emotionAdv() == null ? 0.5f : pt.emotionAdv().toFloatArray()[0];
        try {
            return new Conditionals(pt.speakerEmb().toFloatArray(), pt.condPromptSpeechTokens().toLongArray(), emo,
                    pt.promptToken().toLongArray(), len[0], pt.promptFeat().toFloatArray(),
                    Math.toIntExact(featShape[1]), pt.embedding().toFloatArray());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("conds.pt: inconsistent conditionals: " + e.getMessage(), e);
        }
    }

    /** The built-in default voice: {@code conds.pt} of a model directory. */
    public static Conditionals builtIn(Path modelDir) {
        return from(CondsPt.read(modelDir.resolve("conds.pt")));
    }

    // ---- persistence ----

    /** Writes the conditionals atomically as safetensors, with {@code format} and the given metadata. */
    public void save(Path file, Map<String, String> metadata) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        try {
            t.put(SPEAKER_EMB, speakerEmbTensor());
            t.put(COND_PROMPT_SPEECH_TOKENS, condPromptSpeechTokensTensor());
            t.put(EMOTION_ADV, emotionAdvTensor());
            t.put(PROMPT_TOKEN, promptTokenTensor());
            t.put(PROMPT_TOKEN_LEN, promptTokenLenTensor());
            t.put(PROMPT_FEAT, promptFeatTensor());
            t.put(EMBEDDING, embeddingTensor());
            Map<String, String> meta = new LinkedHashMap<>(metadata);
            meta.put("format", FORMAT);
            SafeTensorsWriter.write(file, t, meta);
        } finally {
            t.values().forEach(Tensor::close);
        }
    }

    public void save(Path file) {
        save(file, Map.of());
    }

    /** Reads a file written by {@link #save}; a malformed file raises {@link CheckpointException}. */
    public static Conditionals load(Path file) {
        try (SafeTensors f = SafeTensors.open(file)) {
            return from(f);
        }
    }

    /** Reads the conditionals tensors (dotted names as above) from an open safetensors file. */
    public static Conditionals from(SafeTensors f) {
        float[] spk = floats(f, SPEAKER_EMB, 2, true);
        long[] cond = longs(f, COND_PROMPT_SPEECH_TOKENS, 2);
        float[] emo = f.contains(EMOTION_ADV) ? floats(f, EMOTION_ADV, 3, true) : new float[] {0.5f};
        long[] pt = longs(f, PROMPT_TOKEN, 2);
        long[] ptl = longs(f, PROMPT_TOKEN_LEN, 1);
        float[] feat = floats(f, PROMPT_FEAT, 3, false);
        float[] emb = floats(f, EMBEDDING, 2, true);
        if (emo.length != 1 || ptl.length != 1) {
            throw new CheckpointException(f.path() + ": emotion_adv and prompt_token_len must hold one value");
        }
        long[] featShape = f.info(PROMPT_FEAT).shape();
        try {
            return new Conditionals(spk, cond, emo[0], pt, ptl[0], feat, Math.toIntExact(featShape[1]), emb);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(f.path() + ": inconsistent conditionals: " + e.getMessage(), e);
        }
    }

    private static TensorInfo info(SafeTensors f, String key, int rank) {
        if (!f.contains(key)) {
            throw new CheckpointException(f.path() + " has no '" + key + "'");
        }
        TensorInfo i = f.info(key);
        if (i.shape().length != rank || i.shape()[0] != 1) {
            throw new CheckpointException(f.path() + ": '" + key + "' has shape " + Arrays.toString(i.shape()));
        }
        return i;
    }

    private static float[] floats(SafeTensors f, String key, int rank, boolean nonEmpty) {
        TensorInfo i = info(f, key, rank);
        if (i.dtype() != DType.F32 && i.dtype() != DType.F16 && i.dtype() != DType.BF16 && i.dtype() != DType.F64) {
            throw new CheckpointException(f.path() + ": '" + key + "' is " + i.dtype() + ", not floating point");
        }
        if (nonEmpty && i.numel() == 0) {
            throw new CheckpointException(f.path() + ": '" + key + "' is empty");
        }
        try (Tensor t = f.tensor(key)) {
            float[] v = TensorArrays.floats(t);
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new CheckpointException(f.path() + ": '" + key + "' holds non-finite values");
                }
            }
            return v;
        }
    }

    private static long[] longs(SafeTensors f, String key, int rank) {
        TensorInfo i = info(f, key, rank);
        if (i.dtype() != DType.I64 && i.dtype() != DType.I32) {
            throw new CheckpointException(f.path() + ": '" + key + "' is " + i.dtype() + ", not an integer type");
        }
        try (Tensor t = f.tensor(key)) {
            return TensorArrays.longs(t);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conditionals c && Arrays.equals(speakerEmb, c.speakerEmb)
                && Arrays.equals(condPromptSpeechTokens, c.condPromptSpeechTokens)
                && Float.compare(emotionAdv, c.emotionAdv) == 0 && Arrays.equals(promptToken, c.promptToken)
                && promptTokenLen == c.promptTokenLen && Arrays.equals(promptFeat, c.promptFeat)
                && promptFeatFrames == c.promptFeatFrames && Arrays.equals(embedding, c.embedding);
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(speakerEmb);
        h = 31 * h + Arrays.hashCode(condPromptSpeechTokens);
        h = 31 * h + Arrays.hashCode(promptToken);
        h = 31 * h + Arrays.hashCode(promptFeat);
        return 31 * h + Arrays.hashCode(embedding);
    }

    @Override
    public String toString() {
        return "Conditionals[speaker_emb " + speakerEmb.length + ", t3 prompt " + condPromptSpeechTokens.length
                + " tokens, gen prompt " + promptToken.length + " tokens / " + promptFeatFrames + "x" + melBins
                + " mel, x-vector " + embedding.length + "]";
    }
}
