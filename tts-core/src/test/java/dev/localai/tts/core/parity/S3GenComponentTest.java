package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class S3GenComponentTest {

    @Test
    void writesGoldenNamedOutputsThatMatchUpstream(@TempDir Path tmp) {
        Path out = tmp.resolve("s3gen_out.safetensors");
        S3GenComponent.run(Golden.ckpt(), Golden.dir().resolve("s3gen.safetensors"), out);
        try (SafeTensors g = Golden.load("s3gen.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(o.keys()).contains("out.mel", "mid.mu", "mid.estimator_out_step0", "mid.estimator_out_step1");
            assertThat(Golden.maxAbsDiff(o.tensor("out.mel"), g.tensor("out.mel"))).isLessThan(1e-3);
            assertThat(Golden.maxAbsDiff(o.tensor("mid.mu"), g.tensor("mid.mu"))).isLessThan(1e-4);
            // the vocoder half of S3Gen.inference with the recorded source noise, then the trim fade
            assertThat(Golden.maxAbsDiff(o.tensor("mid.f0"), g.tensor("mid.f0"))).isLessThan(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("mid.source"), g.tensor("mid.source"))).isLessThan(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("out.source"), g.tensor("out.source"))).isLessThan(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("out.wav"), g.tensor("out.wav"))).isLessThan(1e-4);
            assertThat(Golden.snrDb(g.tensor("out.wav"), o.tensor("out.wav"))).isGreaterThanOrEqualTo(60);
        }
    }

    @Test
    void rebuildsTheNoiseFromUpstreamsRawDrawsWhenZIsAbsent(@TempDir Path tmp) {
        Path in = tmp.resolve("in.safetensors");
        Path out = tmp.resolve("out.safetensors");
        try (SafeTensors g = Golden.load("s3gen.safetensors"); PointerScope scope = new PointerScope()) {
            java.util.Map<String, org.bytedeco.pytorch.Tensor> m = new java.util.LinkedHashMap<>();
            for (String k : new String[] {"in.speech_tokens", "in.prompt_token", "in.prompt_feat", "in.embedding",
                    "in.randn_like_raw", "in.noised_mels_raw"}) {
                m.put(k, g.tensor(k));
            }
            dev.localai.tts.core.checkpoint.SafeTensorsWriter.write(in, m);
        }
        S3GenComponent.run(Golden.ckpt(), in, out);
        try (SafeTensors g = Golden.load("s3gen.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(Golden.maxAbsDiff(o.tensor("in.z"), g.tensor("in.z"))).isZero();
            assertThat(Golden.maxAbsDiff(o.tensor("out.mel"), g.tensor("out.mel"))).isLessThan(1e-3);
        }
    }
}
