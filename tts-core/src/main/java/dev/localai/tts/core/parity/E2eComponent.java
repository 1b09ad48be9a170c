package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.hift.SourceNoise;
import dev.localai.tts.core.model.hift.TrimFade;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
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
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component e2e}: upstream's {@code ChatterboxTurboTTS.generate} on given text ids and conditionals, with
 * every random draw taken from the stage file: T3 ({@code inference_turbo}) to speech tokens, special tokens dropped
 * and three silence tokens appended, the S3Gen flow, HiFT and the trim fade.
 *
 * <p>Reads {@code in.text_ids} (1, T) int64 (tokenised text: this stage starts after the tokenizer), the conditionals
 * {@code in.speaker_emb}, {@code in.cond_prompt_speech_tokens}, {@code in.prompt_token}, {@code in.prompt_feat},
 * {@code in.embedding} (the names of conds.pt), and the draws: {@code in.uniforms} (T3 inverse-CDF sampling; else
 * seeded), the flow noise ({@code in.z}, or {@code in.randn_like_raw} + {@code in.noised_mels_raw}; else seeded) and
 * the vocoder noise ({@code in.sine_rand_raw} or {@code in.sine_phase}, with {@code in.sine_noise_randn}; else
 * seeded). Writes {@code out.sampled_ids_all} (N), {@code mid.speech_tokens} (the S3Gen input), {@code mid.mel}
 * (1, 80, F) and {@code out.wav} (1, L), 24 kHz.
 */
public final class E2eComponent {
    private E2eComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, Device.cpu());
    }

    public static void run(Path modelDir, Path inFile, Path outFile, Device device) {
        Torch.load();
        try (SafeTensors in = SafeTensors.open(inFile);
             PointerScope scope = new PointerScope()) {
            long seed = Long.parseLong(in.metadata().getOrDefault("seed", "0"));
            int[] all;
            try (T3 t3 = T3.loadFromModelDir(modelDir, device)) {
                all = speechTokens(t3, in, seed);
            }
            int[] tokens = T3.toS3GenTokens(all);
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put("out.sampled_ids_all", TensorArrays.tensor(toLongs(all), all.length));
            Tensor ids = TensorArrays.tensor(toLongs(tokens), 1, tokens.length);
            out.put("mid.speech_tokens", ids);
            try (StateDict root = StateDict.open(modelDir.resolve(S3GenFlow.CHECKPOINT), device);
                 S3GenFlow flow = S3GenFlow.load(root, S3GenFlow.inferConfig(root));
                 HiFTGenerator hift = HiFTGenerator.load(root, HiftConfig.inferFrom(root))) {
                Tensor promptToken = require(in, "in.prompt_token");
                Tensor z = S3GenComponent.noiseOf(flow, in, promptToken.size(-1), tokens.length);
                Tensor mel = flow.inference(ids, promptToken, require(in, "in.prompt_feat"),
                        require(in, "in.embedding"), z);
                out.put("mid.mel", mel);
                try (SourceNoise noise = HiftComponent.noiseOf(in, hift.config().harmonics(), seed ^ 0x5DEECE66DL);
                     HiFTGenerator.Output o = hift.inference(mel, noise)) {
                    out.put("out.wav", TrimFade.applyInPlace(o.wav().clone(), 0, hift.config().sampleRate()));
                }
            }
            SafeTensorsWriter.write(outFile, out, Map.of("stage", "e2e", "sample_rate", "24000",
                    "producer", E2eComponent.class.getName()));
        }
    }

    /** T3 as {@code inference_turbo}: every token drawn (a final stop token included). */
    private static int[] speechTokens(T3 t3, SafeTensors in, long seed) {
        Tensor text = require(in, in.contains("in.text_ids") ? "in.text_ids" : "in.text_tokens");
        Tensor prompt = in.contains("in.cond_prompt_speech_tokens") ? in.tensor("in.cond_prompt_speech_tokens") : null;
        T3Cond cond = new T3Cond(require(in, "in.speaker_emb"), prompt);
        float[] uniforms = in.contains("in.uniforms") ? TensorArrays.floats(in.tensor("in.uniforms")) : null;
        SamplingParams params = T3Component.params(in.metadata(), uniforms);
        TokenSampler sampler = uniforms != null ? TokenSampler.inverseCdf(UniformSource.of(uniforms))
                : TokenSampler.seeded(seed);
        try (T3Session s = t3.start(cond, text, params, sampler)) {
            while (s.next() != T3Session.END) {
                // drawn tokens accumulate in the session
            }
            return s.tokens();
        }
    }

    private static Tensor require(SafeTensors in, String key) {
        if (!in.contains(key)) {
            throw new CheckpointException(in.path() + " has no '" + key + "' tensor");
        }
        return in.tensor(key);
    }

    private static long[] toLongs(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = v[i];
        }
        return l;
    }
}
