package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.DType;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The component runners read the golden in.* tensors and write every golden name within tolerance. */
class EncoderComponentsTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void init() {
        Torch.init(1);
    }

    @Test
    void s3tokenizerComponent() {
        Path out = tmp.resolve("s3tokenizer.safetensors");
        S3TokenizerComponent.run(Golden.ckpt(), Golden.dir().resolve("s3tokenizer.safetensors"), out);
        compare("s3tokenizer.safetensors", out, Map.of("mid.log_mel", 1e-5, "mid.fsq_prequant", 1e-4));
    }

    @Test
    void campplusComponent() {
        Path out = tmp.resolve("campplus.safetensors");
        CampPlusComponent.run(Golden.ckpt(), Golden.dir().resolve("campplus.safetensors"), out);
        compare("campplus.safetensors", out, Map.of("mid.fbank_meannorm", 1e-4, "out.xvector", 1e-4));
    }

    @Test
    void embedRefComponent() {
        Path out = tmp.resolve("embed_ref.safetensors");
        EmbedRefComponent.run(Golden.ckpt(), Golden.dir().resolve("embed_ref.safetensors"), out);
        compare("embed_ref.safetensors", out, Map.of("mid.wav_resampled_16k", 1e-6, "mid.mel24", 1e-4,
                "out.prompt_feat", 1e-4, "out.embedding", 1e-4));
    }

    private static void compare(String golden, Path actual, Map<String, Double> tolerances) {
        try (SafeTensors g = Golden.load(golden); SafeTensors a = SafeTensors.open(actual)) {
            assertThat(a.keys()).containsExactlyInAnyOrderElementsOf(g.keys());
            for (String key : g.keys()) {
                assertThat(a.info(key).dtype()).as(key).isEqualTo(g.info(key).dtype());
                assertThat(a.info(key).shape()).as(key).containsExactly(g.info(key).shape());
                try (Tensor e = g.tensor(key); Tensor x = a.tensor(key)) {
                    double diff = Golden.maxAbsDiff(e, x);
                    if (g.info(key).dtype() == DType.I64 || key.startsWith("in.")) {
                        assertThat(diff).as(key).isZero();
                    } else {
                        assertThat(diff).as(key).isLessThan(tolerances.get(key));
                    }
                }
            }
        }
    }
}
