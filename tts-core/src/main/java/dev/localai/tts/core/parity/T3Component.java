package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.model.t3.KvCache;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Cond;
import dev.localai.tts.core.model.t3.T3Session;
import dev.localai.tts.core.model.t3.TokenSampler;
import dev.localai.tts.core.model.t3.UniformSource;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.voice.TensorArrays;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code tts component t3} (also {@code t3_prefill}, {@code t3_greedy}, {@code t3_sampled}): runs T3 of
 * {@code MODEL_DIR/t3_turbo_v1.safetensors} on the inputs of a golden-style file and writes the golden names of all
 * three T3 stages.
 *
 * <p>Reads {@code in.text_tokens} (1, T) int64 (or {@code in.text_ids}), {@code in.speaker_emb} (1, 256) and
 * {@code in.cond_prompt_speech_tokens} (1, P) int64 (optional). With {@code in.uniforms} (float32, one per token) the
 * tokens are drawn by the inverse-CDF rule of the {@code t3_sampled} golden, else greedily (argmax of the processed
 * probabilities, the {@code t3_greedy} golden). Sampling settings come from the input's {@code params} metadata
 * ({@code temperature=.. top_k=.. top_p=.. repetition_penalty=.. max_gen_len=..}) over the Turbo defaults; without a
 * {@code max_gen_len} it is the number of uniforms minus one, else {@value #DEFAULT_MAX_GEN_LEN}.
 *
 * <p>Writes the prefill tensors {@code mid.cond_emb} (1, 1+P, D), {@code mid.inputs_embeds} (1, L, D),
 * {@code mid.hidden_states} (1, L, D), {@code out.speech_logits} (1, V) (the first-step logits), and the decode:
 * {@code out.step_logits} (N, V), {@code out.step_probs} (N, V), {@code out.sampled_ids_all} (N) (every drawn token,
 * a final stop token included) and {@code out.tokens} (1, N') (upstream's return value: a trailing stop token removed).
 */
public final class T3Component {
    /** Decode steps when neither the metadata nor the uniforms say. */
    public static final int DEFAULT_MAX_GEN_LEN = 1000;
    private static final Pattern PARAM = Pattern.compile("(\\w+)=([-+0-9.eE]+)");

    private T3Component() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, Device.cpu());
    }

    public static void run(Path modelDir, Path inFile, Path outFile, Device device) {
        Torch.load();
        try (SafeTensors in = SafeTensors.open(inFile);
             T3 t3 = T3.loadFromModelDir(modelDir, device);
             PointerScope scope = new PointerScope()) {
            Tensor text = require(in, in.contains("in.text_tokens") ? "in.text_tokens" : "in.text_ids");
            Tensor prompt = in.contains("in.cond_prompt_speech_tokens") ? in.tensor("in.cond_prompt_speech_tokens")
                    : null;
            T3Cond cond = new T3Cond(require(in, "in.speaker_emb"), prompt);
            float[] uniforms = in.contains("in.uniforms") ? TensorArrays.floats(in.tensor("in.uniforms")) : null;
            SamplingParams params = params(in.metadata(), uniforms);

            Map<String, Tensor> out = new LinkedHashMap<>();
            Tensor condEmb = owned(t3.condEmbeddings(cond));
            Tensor embeds = owned(t3.inputEmbeddings(cond, text));
            out.put("mid.cond_emb", f32(condEmb).unsqueeze(0));
            out.put("mid.inputs_embeds", f32(embeds).unsqueeze(0));
            try (KvCache cache = t3.newCache((int) embeds.size(0))) {
                Tensor hidden = t3.prefillHidden(embeds, cache);
                out.put("mid.hidden_states", f32(hidden).unsqueeze(0));
                out.put("out.speech_logits", f32(t3.speechHead(hidden.narrow(0, hidden.size(0) - 1, 1))));
            }

            TokenSampler sampler = uniforms != null ? TokenSampler.inverseCdf(UniformSource.of(uniforms))
                    : TokenSampler.greedy();
            List<Tensor> logits = new ArrayList<>();
            List<Tensor> probs = new ArrayList<>();
            int[] all;
            int[] tokens;
            try (T3Session s = t3.start(cond, text, params, sampler)) {
                while (s.next() != T3Session.END) {
                    logits.add(f32(s.lastLogits()).clone());
                    probs.add(f32(s.lastProbs()).clone());
                }
                all = s.tokens();
                tokens = s.generateAll();
            }
            if (all.length == 0) {
                throw new IllegalStateException("T3 produced no token");
            }
            out.put("out.step_logits", torch.stack(new TensorVector(logits.toArray(new Tensor[0]))));
            out.put("out.step_probs", torch.stack(new TensorVector(probs.toArray(new Tensor[0]))));
            out.put("out.sampled_ids_all", TensorArrays.tensor(toLongs(all), all.length));
            out.put("out.tokens", TensorArrays.tensor(toLongs(tokens), 1, tokens.length));
            SafeTensorsWriter.write(outFile, out, Map.of("stage", "t3",
                    "sampler", uniforms != null ? "inverse CDF over in.uniforms" : "greedy (argmax of processed probs)",
                    "params", describe(params), "producer", T3Component.class.getName()));
        }
    }

    /** The Turbo defaults overridden by the {@code params} metadata (as the golden writes it). */
    public static SamplingParams params(Map<String, String> metadata, float[] uniforms) {
        SamplingParams d = SamplingParams.defaults();
        double temperature = d.temperature();
        int topK = d.topK();
        double topP = d.topP();
        double penalty = d.repetitionPenalty();
        int maxGenLen = uniforms != null ? Math.max(0, uniforms.length - 1) : DEFAULT_MAX_GEN_LEN;
        String spec = metadata.getOrDefault("params", "");
        Matcher m = PARAM.matcher(spec);
        while (m.find()) {
            String v = m.group(2);
            try {
                switch (m.group(1)) {
                    case "temperature" -> temperature = Double.parseDouble(v);
                    case "top_k" -> topK = Integer.parseInt(v);
                    case "top_p" -> topP = Double.parseDouble(v);
                    case "repetition_penalty" -> penalty = Double.parseDouble(v);
                    case "max_gen_len" -> maxGenLen = Integer.parseInt(v);
                    default -> {
                        // other recorded settings do not affect Turbo's T3
                    }
                }
            } catch (NumberFormatException e) {
                throw new CheckpointException("bad value '" + v + "' for " + m.group(1) + " in the params metadata");
            }
        }
        if (metadata.containsKey("max_gen_len")) {
            maxGenLen = Integer.parseInt(metadata.get("max_gen_len").trim());
        }
        return new SamplingParams(temperature, topK, topP, penalty, maxGenLen);
    }

    public static String describe(SamplingParams p) {
        return "temperature=" + p.temperature() + " top_k=" + p.topK() + " top_p=" + p.topP() + " repetition_penalty="
                + p.repetitionPenalty() + " max_gen_len=" + p.maxGenLen();
    }

    private static Tensor require(SafeTensors in, String key) {
        if (!in.contains(key)) {
            throw new CheckpointException(in.path() + " has no '" + key + "' tensor");
        }
        return in.tensor(key);
    }

    private static Tensor f32(Tensor t) {
        return t.scalar_type().value == ScalarType.Float.value ? t : t.to(ScalarType.Float);
    }

    /** Attaches a tensor the caller owns to the innermost PointerScope, so it is freed with the rest. */
    private static Tensor owned(Tensor t) {
        PointerScope scope = PointerScope.getInnerScope();
        if (scope != null) {
            scope.attach(t);
            t.releaseReference();
        }
        return t;
    }

    private static long[] toLongs(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = v[i];
        }
        return l;
    }
}
