package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.voice.s3tokenizer.S3Tokenizer;
import dev.localai.tts.core.voice.s3tokenizer.S3TokenizerConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component s3tokenizer}: reads {@code in.wav16k} (16 kHz float32) from a safetensors file, tokenizes it
 * with the tokenizer of {@code MODEL_DIR/s3gen_meanflow.safetensors} and writes the golden names:
 * {@code in.wav16k}, {@code mid.log_mel} (1, 128, T), {@code mid.fsq_prequant} (T', 8), {@code out.tokens} (1, T')
 * int64, {@code out.token_lens} (1) int64.
 */
public final class S3TokenizerComponent {
    /** upstream's max_len for the T3 prompt tokens (the golden's call). */
    public static final int DEFAULT_MAX_LEN = 375;

    private S3TokenizerComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        run(modelDir, inFile, outFile, DEFAULT_MAX_LEN, Device.cpu());
    }

    /** {@code maxLen <= 0} tokenizes the whole clip. */
    public static void run(Path modelDir, Path inFile, Path outFile, int maxLen, Device device) {
        try (StateDict root = StateDict.open(modelDir.resolve("s3gen_meanflow.safetensors"), device);
             SafeTensors in = SafeTensors.open(inFile);
             Tensor wav = in.tensor("in.wav16k")) {
            StateDict sd = root.sub("tokenizer");
            try (S3Tokenizer tok = new S3Tokenizer(sd, S3TokenizerConfig.inferFrom(sd));
                 S3Tokenizer.Result r = tok.tokenize(wav, maxLen);
                 Tensor lens = Tensor.create(new long[] {r.length()}, 1)) {
                Map<String, Tensor> out = new LinkedHashMap<>();
                out.put("in.wav16k", wav);
                out.put("mid.log_mel", r.logMel());
                out.put("mid.fsq_prequant", r.prequant());
                out.put("out.tokens", r.tokens());
                out.put("out.token_lens", lens);
                SafeTensorsWriter.write(outFile, out, Map.of("call", "S3Tokenizer.forward([wav16k], max_len="
                        + (maxLen > 0 ? String.valueOf(maxLen) : "None") + ")"));
            }
        }
    }
}
