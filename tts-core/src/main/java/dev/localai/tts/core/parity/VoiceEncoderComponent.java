package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.voice.TensorArrays;
import dev.localai.tts.core.voice.VoiceEncoder;
import dev.localai.tts.core.voice.VoiceEncoderConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component ve MODEL_DIR IN OUT}: runs the VoiceEncoder on {@code in.wav16k} (float32, 16 kHz mono) of a
 * safetensors file and writes the golden {@code ve} stage's names: {@code in.wav16k}, {@code mid.trim_interval}
 * (int64 [2]), {@code mid.mel} (float32 [T, 40]) and {@code out.embedding} (float32 [1, 256]).
 */
public final class VoiceEncoderComponent {

    public static final String IN_WAV = "in.wav16k";

    private VoiceEncoderComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, Device.cpu());
    }

    public static void run(Path modelDir, Path inFile, Path outFile, Device device) {
        float[] wav;
        try (SafeTensors in = SafeTensors.open(inFile)) {
            if (!in.contains(IN_WAV)) {
                throw new CheckpointException(inFile + " has no '" + IN_WAV + "' tensor");
            }
            try (Tensor t = in.tensor(IN_WAV)) {
                wav = TensorArrays.floats(t);
            }
        }
        VoiceEncoderConfig config = VoiceEncoderConfig.turbo();
        VoiceEncoder.Result r;
        try (VoiceEncoder ve = VoiceEncoder.load(config, modelDir.resolve("ve.safetensors"), device)) {
            r = ve.embedWithTrace(wav);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            out.put(IN_WAV, TensorArrays.tensor(wav, wav.length));
            out.put("mid.trim_interval", TensorArrays.tensor(new long[] {r.trimStart(), r.trimEnd()}, 2));
            out.put("mid.mel", TensorArrays.tensor(r.mel(), r.melFrames(), config.numMels()));
            out.put("out.embedding", TensorArrays.tensor(r.embedding(), 1, r.embedding().length));
            SafeTensorsWriter.write(outFile, out,
                    Map.of("call", "VoiceEncoder.embeds_from_wavs([wav], sample_rate=16000) (trim_top_db=20, rate=1.3)",
                            "producer", "dev.localai.tts.core.voice.VoiceEncoderComponent"));
        } finally {
            out.values().forEach(Tensor::close);
        }
    }
}
