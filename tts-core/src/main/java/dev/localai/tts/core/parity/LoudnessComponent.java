package dev.localai.tts.core.parity;

import dev.localai.tts.core.audio.Loudness;
import dev.localai.tts.core.audio.ReferenceAudio;
import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.voice.TensorArrays;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component loudness}: upstream's {@code norm_loudness} (pyloudnorm, BS.1770 integrated loudness, gain to
 * -27 LUFS) on {@code in.wav24k}. Writes {@code in.wav24k}, {@code mid.integrated_lufs} (float32 [1]; the f64 value
 * is in the {@code lufs_f64} metadata) and {@code out.wav}. The model directory is not used.
 */
public final class LoudnessComponent {
    private LoudnessComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        float[] wav;
        try (SafeTensors in = SafeTensors.open(inFile)) {
            if (!in.contains("in.wav24k")) {
                throw new CheckpointException(inFile + " has no 'in.wav24k' tensor");
            }
            try (Tensor t = in.tensor("in.wav24k")) {
                wav = TensorArrays.floats(t);
            }
        }
        double lufs = Loudness.integratedLoudness(wav, ReferenceAudio.SR_24K);
        float[] normalized = Loudness.normalize(wav, ReferenceAudio.SR_24K, Loudness.REFERENCE_TARGET_LUFS);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            out.put("in.wav24k", TensorArrays.tensor(wav, wav.length));
            out.put("mid.integrated_lufs", TensorArrays.tensor(new float[] {(float) lufs}, 1));
            out.put("out.wav", TensorArrays.tensor(normalized, normalized.length));
            SafeTensorsWriter.write(outFile, out, Map.of("stage", "loudness", "lufs_f64", Double.toString(lufs),
                    "target_lufs", Double.toString(Loudness.REFERENCE_TARGET_LUFS)));
        } finally {
            out.values().forEach(Tensor::close);
        }
    }
}
