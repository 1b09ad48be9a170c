package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.hift.SourceNoise;
import dev.localai.tts.core.model.hift.TrimFade;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component hift}: runs the vocoder on the tensors of a golden-style input file and writes the outputs
 * under the golden names.
 * <ul>
 *   <li>reads {@code in.mel} (1, 80, T) and, when present, {@code in.sine_phase} (1, 9, 1) and
 *       {@code in.sine_noise_randn} (1, 9, 480 T); without them the noise comes from a CPU generator seeded with
 *       {@code seed};</li>
 *   <li>writes {@code mid.f0} (1, T), {@code out.source} (1, 1, 480 T) and {@code out.wav} (1, 480 T) (no trim fade,
 *       like upstream's {@code HiFTGenerator.inference}); {@code out.wav_faded} adds S3Gen's trim fade.</li>
 * </ul>
 */
public final class HiftComponent {
    private HiftComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, 0L);
    }

    public static void run(Path modelDir, Path inFile, Path outFile, long seed) {
        Torch.load();
        try (StateDict sd = StateDict.open(modelDir.resolve("s3gen_meanflow.safetensors"), Device.cpu());
             HiFTGenerator hift = HiFTGenerator.load(sd, HiftConfig.inferFrom(sd));
             SafeTensors in = SafeTensors.open(inFile);
             Tensor mel = in.tensor("in.mel")) {
            SourceNoise noise;
            Tensor phase = null;
            Tensor randn = null;
            if (in.contains("in.sine_phase") && in.contains("in.sine_noise_randn")) {
                phase = in.tensor("in.sine_phase");
                randn = in.tensor("in.sine_noise_randn");
                noise = SourceNoise.of(phase, randn);
            } else {
                noise = SourceNoise.seeded(seed, hift.config().harmonics());
            }
            try (HiFTGenerator.Output out = hift.inference(mel, noise);
                 Tensor faded = TrimFade.applyInPlace(out.wav().clone(), 0, hift.config().sampleRate())) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                tensors.put("mid.f0", out.f0());
                tensors.put("out.source", out.source());
                tensors.put("out.wav", out.wav());
                tensors.put("out.wav_faded", faded);
                SafeTensorsWriter.write(outFile, tensors, Map.of("stage", "hift", "sample_rate",
                        Integer.toString(hift.config().sampleRate())));
            } finally {
                noise.close();
                if (phase != null) {
                    phase.close();
                    randn.close();
                }
            }
        }
    }

    /**
     * The vocoder noise a stage file records: initial phases from {@code in.sine_phase} (1, H, 1), or from upstream's
     * raw uniform draws {@code in.sine_rand_raw} mapped as upstream does, plus the sine noise
     * {@code in.sine_noise_randn} (1, H, L); without them, noise from a CPU generator seeded with {@code seed}. The
     * tensors read are attached to the current {@code PointerScope} (open one around the call).
     */
    public static SourceNoise noiseOf(SafeTensors in, int harmonics, long seed) {
        boolean hasPhase = in.contains("in.sine_phase") || in.contains("in.sine_rand_raw");
        if (!hasPhase || !in.contains("in.sine_noise_randn")) {
            return SourceNoise.seeded(seed, harmonics);
        }
        Tensor phase = in.contains("in.sine_phase") ? in.tensor("in.sine_phase")
                : SourceNoise.phaseFromUniform(in.tensor("in.sine_rand_raw"));
        return SourceNoise.of(phase, in.tensor("in.sine_noise_randn"));
    }

    /** {@code HiftComponent MODEL_DIR IN.safetensors OUT.safetensors [SEED]}. */
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: HiftComponent MODEL_DIR IN.safetensors OUT.safetensors [SEED]");
            System.exit(2);
        }
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), args.length > 3 ? Long.parseLong(args[3]) : 0L);
    }
}
