package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.voice.ref.EmbedRef;
import dev.localai.tts.core.voice.ref.S3GenRef;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component embed_ref}: reads {@code in.wav24k} (24 kHz float32), runs S3Gen's reference embedding with
 * {@code MODEL_DIR/s3gen_meanflow.safetensors} and writes the golden names: {@code in.wav24k}, {@code mid.mel24}
 * (1, 80, M), {@code mid.wav_resampled_16k} (1, L16), {@code out.prompt_feat} (1, M, 80), {@code out.prompt_token}
 * (1, P) int64, {@code out.prompt_token_len} (1) int64, {@code out.embedding} (1, 192).
 */
public final class EmbedRefComponent {
    private EmbedRefComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, Device.cpu());
    }

    public static void run(Path modelDir, Path inFile, Path outFile, Device device) {
        try (StateDict root = StateDict.open(modelDir.resolve("s3gen_meanflow.safetensors"), device);
             SafeTensors in = SafeTensors.open(inFile);
             Tensor wav = in.tensor("in.wav24k");
             EmbedRef embedRef = EmbedRef.load(root);
             S3GenRef ref = embedRef.embed(wav);
             Tensor mel24 = ref.promptFeat().transpose(1, 2).contiguous();
             Tensor len = Tensor.create(new long[] {ref.promptTokenLen()}, 1)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put("in.wav24k", wav);
            out.put("mid.mel24", mel24);
            out.put("mid.wav_resampled_16k", ref.wav16k());
            out.put("out.embedding", ref.embedding());
            out.put("out.prompt_feat", ref.promptFeat());
            out.put("out.prompt_token", ref.promptToken());
            out.put("out.prompt_token_len", len);
            SafeTensorsWriter.write(outFile, out, Map.of("call", "S3Gen.embed_ref(wav24k, 24000)"));
        }
    }
}
