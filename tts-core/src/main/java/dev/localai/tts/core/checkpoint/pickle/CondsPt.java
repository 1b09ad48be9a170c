package dev.localai.tts.core.checkpoint.pickle;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The contents of {@code conds.pt}, the built-in voice conditionals: {@code {"t3": T3Cond fields, "gen": S3Gen
 * reference dict}} as upstream's {@code Conditionals.save} writes it. Tensors are plain-Java {@link StoredTensor}s;
 * {@code clap_emb}, {@code cond_prompt_speech_emb} and {@code prompt_feat_len} are always None and not kept.
 *
 * @param speakerEmb             t3.speaker_emb (1, 256) float: VoiceEncoder embedding
 * @param condPromptSpeechTokens t3.cond_prompt_speech_tokens (1, P) long: S3 tokens of the T3 prompt
 * @param emotionAdv             t3.emotion_adv (1, 1, 1) float: unused by Turbo
 * @param promptToken            gen.prompt_token (1, P2) long: S3 tokens of the S3Gen prompt
 * @param promptTokenLen         gen.prompt_token_len (1,) long
 * @param promptFeat             gen.prompt_feat (1, 2*P2, 80) float: 24 kHz log-mel, time-first
 * @param embedding              gen.embedding (1, 192) float: CAMPPlus x-vector
 */
public record CondsPt(StoredTensor speakerEmb, StoredTensor condPromptSpeechTokens, StoredTensor emotionAdv,
        StoredTensor promptToken, StoredTensor promptTokenLen, StoredTensor promptFeat, StoredTensor embedding) {

    public static CondsPt read(Path file) {
        Map<String, Object> flat = TorchZip.flatten(TorchZip.readMap(file));
        return new CondsPt(
                tensor(flat, file, "t3.speaker_emb", TorchDType.FLOAT, 2),
                tensor(flat, file, "t3.cond_prompt_speech_tokens", TorchDType.LONG, 2),
                flat.get("t3.emotion_adv") == null ? null
                        : tensor(flat, file, "t3.emotion_adv", TorchDType.FLOAT, 3),
                tensor(flat, file, "gen.prompt_token", TorchDType.LONG, 2),
                tensor(flat, file, "gen.prompt_token_len", TorchDType.LONG, 1),
                tensor(flat, file, "gen.prompt_feat", TorchDType.FLOAT, 3),
                tensor(flat, file, "gen.embedding", TorchDType.FLOAT, 2));
    }

    private static StoredTensor tensor(Map<String, Object> flat, Path file, String key, TorchDType dtype, int rank) {
        Object o = flat.get(key);
        if (!(o instanceof StoredTensor t)) {
            throw new TorchPickleException(file + ": conditionals entry " + key + " is "
                    + (flat.containsKey(key) ? (o == null ? "None" : o.getClass().getSimpleName()) : "missing")
                    + ", expected a tensor");
        }
        if (t.dtype() != dtype || t.shape().length != rank) {
            throw new TorchPickleException(file + ": conditionals entry " + key + " is " + t.dtype() + " "
                    + Arrays.toString(t.shape()) + ", expected a rank-" + rank + " " + dtype + " tensor");
        }
        return t;
    }

    /** The official nested structure, with the None entries, in upstream's field order. */
    public Map<String, Object> toTree() {
        Map<String, Object> t3 = new LinkedHashMap<>();
        t3.put("speaker_emb", speakerEmb);
        t3.put("clap_emb", null);
        t3.put("cond_prompt_speech_tokens", condPromptSpeechTokens);
        t3.put("cond_prompt_speech_emb", null);
        t3.put("emotion_adv", emotionAdv);
        Map<String, Object> gen = new LinkedHashMap<>();
        gen.put("prompt_token", promptToken);
        gen.put("prompt_token_len", promptTokenLen);
        gen.put("prompt_feat", promptFeat);
        gen.put("prompt_feat_len", null);
        gen.put("embedding", embedding);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("t3", t3);
        root.put("gen", gen);
        return root;
    }

    public void write(Path file) {
        TorchZip.write(file, toTree());
    }
}
