package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.voice.campplus.CampPlus;
import dev.localai.tts.core.voice.campplus.CampPlusConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component campplus}: reads {@code in.wav16k} (16 kHz float32), runs the speaker encoder of
 * {@code MODEL_DIR/s3gen_meanflow.safetensors} and writes the golden names: {@code in.wav16k},
 * {@code mid.fbank_meannorm} (1, T, 80) and {@code out.xvector} (1, 192).
 */
public final class CampPlusComponent {
    private CampPlusComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, Device.cpu());
    }

    public static void run(Path modelDir, Path inFile, Path outFile, Device device) {
        try (StateDict root = StateDict.open(modelDir.resolve("s3gen_meanflow.safetensors"), device);
             SafeTensors in = SafeTensors.open(inFile);
             Tensor wav = in.tensor("in.wav16k")) {
            StateDict sd = root.sub("speaker_encoder");
            try (CampPlus model = new CampPlus(sd, CampPlusConfig.inferFrom(sd));
                 Tensor feats = model.features(wav);
                 Tensor batch = feats.unsqueeze(0);
                 Tensor xvector = model.forward(batch)) {
                Map<String, Tensor> out = new LinkedHashMap<>();
                out.put("in.wav16k", wav);
                out.put("mid.fbank_meannorm", batch);
                out.put("out.xvector", xvector);
                SafeTensorsWriter.write(outFile, out, Map.of("call", "CAMPPlus.inference(wav16k[None])"));
            }
        }
    }
}
