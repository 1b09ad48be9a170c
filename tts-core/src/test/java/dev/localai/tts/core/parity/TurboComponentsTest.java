package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.TensorArrays;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipeline-level stages ({@code e2e}, {@code conds}) against the goldens (README section 6). */
class TurboComponentsTest {

    @Test
    void e2eGivesTheGoldenIdsAndWaveform(@TempDir Path tmp) {
        Path out = tmp.resolve("e2e_out.safetensors");
        E2eComponent.run(Golden.ckpt(), Golden.dir().resolve("e2e.safetensors"), out);
        try (SafeTensors g = Golden.load("e2e.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(TensorArrays.longs(o.tensor("out.sampled_ids_all")))
                    .containsExactly(TensorArrays.longs(g.tensor("out.sampled_ids_all")));
            Tensor wav = o.tensor("out.wav");
            double diff = Golden.maxAbsDiff(wav, g.tensor("out.wav"));
            double snr = Golden.snrDb(g.tensor("out.wav"), wav);
            System.out.println("e2e wav max abs diff " + diff + ", SNR " + snr + " dB");
            assertThat(diff).isLessThanOrEqualTo(1e-4);
            assertThat(snr).isGreaterThanOrEqualTo(60);
        }
    }

    @Test
    void condsComposeTheEncoderGoldens(@TempDir Path tmp) {
        Path in = tmp.resolve("in.safetensors");
        Path out = tmp.resolve("out.safetensors");
        try (SafeTensors ve = Golden.load("ve.safetensors");
             SafeTensors tok = Golden.load("s3tokenizer.safetensors");
             SafeTensors ref = Golden.load("embed_ref.safetensors");
             PointerScope scope = new PointerScope()) {
            // the T3 half of the goldens starts from one 16 kHz clip: the same one for ve and the tokenizer
            assertThat(Golden.maxAbsDiff(ve.tensor("in.wav16k"), tok.tensor("in.wav16k"))).isZero();
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("in.wav24k", ref.tensor("in.wav24k"));
            m.put("in.wav16k", ve.tensor("in.wav16k"));
            SafeTensorsWriter.write(in, m);
        }
        CondsComponent.run(Golden.ckpt(), in, out);
        try (SafeTensors ve = Golden.load("ve.safetensors");
             SafeTensors tok = Golden.load("s3tokenizer.safetensors");
             SafeTensors ref = Golden.load("embed_ref.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(Golden.maxAbsDiff(o.tensor("out.speaker_emb"), ve.tensor("out.embedding")))
                    .isLessThanOrEqualTo(1e-5);
            assertThat(TensorArrays.longs(o.tensor("out.cond_prompt_speech_tokens")))
                    .containsExactly(TensorArrays.longs(tok.tensor("out.tokens")));
            assertThat(TensorArrays.longs(o.tensor("out.prompt_token")))
                    .containsExactly(TensorArrays.longs(ref.tensor("out.prompt_token")));
            assertThat(TensorArrays.longs(o.tensor("out.prompt_token_len")))
                    .containsExactly(TensorArrays.longs(ref.tensor("out.prompt_token_len")));
            assertThat(Golden.maxAbsDiff(o.tensor("out.prompt_feat"), ref.tensor("out.prompt_feat")))
                    .isLessThanOrEqualTo(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("out.embedding"), ref.tensor("out.embedding")))
                    .isLessThanOrEqualTo(1e-4);
            assertThat(TensorArrays.floats(o.tensor("out.emotion_adv"))).containsExactly(0.5f);
        }
    }

    @Test
    void condsOfAShortClipWithoutA16kHzCopyAreRefused(@TempDir Path tmp) {
        Path in = tmp.resolve("in.safetensors");
        try (SafeTensors ref = Golden.load("embed_ref.safetensors"); PointerScope scope = new PointerScope()) {
            SafeTensorsWriter.write(in, Map.of("in.wav24k", ref.tensor("in.wav24k")));
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CondsComponent.run(Golden.ckpt(), in,
                tmp.resolve("out.safetensors"))).hasMessageContaining("5");
    }
}
