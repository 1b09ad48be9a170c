package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.hift.SourceNoise;
import dev.localai.tts.core.model.hift.TrimFade;
import dev.localai.tts.core.model.s3gen.FlowTrace;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component s3gen}: runs S3Gen (the flow, then the HiFT vocoder and the trim fade, as upstream's
 * {@code S3Gen.inference}) on the inputs of a stage file with the golden names and writes the outputs with the golden
 * names, for parity checks from outside.
 *
 * <p>Reads {@code in.speech_tokens} (N or 1xN int64), {@code in.prompt_token} (1xP), {@code in.prompt_feat}
 * (1xM1x80), {@code in.embedding} (1x192) and the noise: {@code in.z} (1x80x2(P+N)) if present, else upstream's two
 * raw draws {@code in.randn_like_raw} with its tail replaced by {@code in.noised_mels_raw}, else seeded noise (seed
 * from the {@code seed} metadata, default 0). Writes {@code out.mel} (1x80xT), {@code mid.mu} (1x2(P+N)x80),
 * {@code mid.estimator_out_step<i>} and {@code in.z} (the noise used). When the checkpoint holds the vocoder
 * ({@code mel2wav.*}), it also vocodes the mel with the recorded source noise ({@code in.sine_phase} or
 * {@code in.sine_rand_raw}, and {@code in.sine_noise_randn}; else seeded) and writes {@code mid.f0} (1, T),
 * {@code mid.source} (1, L, 1), {@code out.source} (1, 1, L) and {@code out.wav} (1, L) with the trim fade applied.
 */
public final class S3GenComponent {
    private S3GenComponent() {}

    /** Runs with the model in {@code modelDir} (or the checkpoint file itself) on the CPU. */
    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, Device.cpu());
    }

    public static void run(Path modelDir, Path inFile, Path outFile, Device device) {
        Torch.load();
        Path file = java.nio.file.Files.isDirectory(modelDir) ? modelDir.resolve(S3GenFlow.CHECKPOINT) : modelDir;
        try (StateDict root = StateDict.open(file, device);
             S3GenFlow flow = S3GenFlow.load(root, S3GenFlow.inferConfig(root));
             SafeTensors in = SafeTensors.open(inFile);
             FlowTrace.Recording trace = new FlowTrace.Recording();
             PointerScope scope = new PointerScope()) {
            Tensor tokens = in.tensor("in.speech_tokens");
            Tensor promptTok = in.tensor("in.prompt_token");
            Tensor promptFeat = in.tensor("in.prompt_feat");
            Tensor embedding = in.tensor("in.embedding");
            long n = tokens.size(tokens.dim() - 1);
            long p = promptTok.size(promptTok.dim() - 1);
            Tensor z = noise(flow, in, p, n);
            Tensor mel = flow.inference(tokens, promptTok, promptFeat, embedding, z, trace);
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put("in.z", z);
            out.put("mid.mu", trace.mu());
            List<Tensor> est = trace.estimatorOuts();
            for (int i = 0; i < est.size(); i++) {
                out.put("mid.estimator_out_step" + i, est.get(i));
            }
            out.put("out.mel", mel);
            if (root.has(HIFT_KEY)) {
                vocode(root, in, mel, out);
            }
            SafeTensorsWriter.write(outFile, out, Map.of("stage", "s3gen", "producer", "localai-tts"));
        }
    }

    private static final String HIFT_KEY = HiFTGenerator.PREFIX + ".conv_pre.parametrizations.weight.original0";

    /** HiFT on the flow's mel, then the trim fade; adds the vocoder's golden names to {@code out}. */
    private static void vocode(StateDict root, SafeTensors in, Tensor mel, Map<String, Tensor> out) {
        long seed = Long.parseLong(in.metadata().getOrDefault("seed", "0"));
        try (HiFTGenerator hift = HiFTGenerator.load(root, HiftConfig.inferFrom(root));
             SourceNoise noise = HiftComponent.noiseOf(in, hift.config().harmonics(), seed ^ 0x5DEECE66DL);
             HiFTGenerator.Output o = hift.inference(mel, noise)) {
            out.put("mid.f0", o.f0().clone());
            out.put("mid.source", o.source().transpose(1, 2).contiguous());
            out.put("out.source", o.source().clone());
            out.put("out.wav", TrimFade.applyInPlace(o.wav().clone(), 0, hift.config().sampleRate()));
        }
    }

    /**
     * The flow's starting noise from a stage file: {@code in.z}, else upstream's two raw draws
     * ({@code in.randn_like_raw} with its tail replaced by {@code in.noised_mels_raw}), else seeded (metadata
     * {@code seed}, default 0). Made in the current {@code PointerScope}.
     */
    public static Tensor noiseOf(S3GenFlow flow, SafeTensors in, long p, long n) {
        return noise(flow, in, p, n);
    }

    private static Tensor noise(S3GenFlow flow, SafeTensors in, long p, long n) {
        if (in.contains("in.z")) {
            return in.tensor("in.z");
        }
        if (in.contains("in.randn_like_raw") && in.contains("in.noised_mels_raw")) {
            Tensor z = in.tensor("in.randn_like_raw").clone();
            Tensor tail = in.tensor("in.noised_mels_raw");
            long all = z.size(2);
            long gen = tail.size(2);
            z.narrow(2, all - gen, gen).copy_(tail);
            return z;
        }
        long seed = Long.parseLong(in.metadata().getOrDefault("seed", "0"));
        return flow.noise(p, n, seed);
    }

    /** {@code S3GenComponent MODEL_DIR IN.safetensors OUT.safetensors} */
    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: S3GenComponent MODEL_DIR IN.safetensors OUT.safetensors");
            System.exit(2);
        }
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]));
    }
}
