package dev.localai.tts.core.parity;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.model.t3.SamplingParams;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.TensorArrays;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tts component t3} against the t3_prefill, t3_greedy and t3_sampled goldens (README section 6). */
class T3ComponentTest {

    @Test
    void prefillNamesMatchTheGolden(@TempDir Path tmp) {
        Path out = tmp.resolve("out.safetensors");
        T3Component.run(Golden.ckpt(), Golden.dir().resolve("t3_prefill.safetensors"), out);
        try (SafeTensors g = Golden.load("t3_prefill.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(Golden.maxAbsDiff(o.tensor("mid.cond_emb"), g.tensor("mid.cond_emb"))).isLessThanOrEqualTo(1e-6);
            assertThat(Golden.maxAbsDiff(o.tensor("mid.inputs_embeds"), g.tensor("mid.inputs_embeds")))
                    .isLessThanOrEqualTo(1e-6);
            assertThat(Golden.maxAbsDiff(o.tensor("mid.hidden_states"), g.tensor("mid.hidden_states")))
                    .isLessThanOrEqualTo(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("out.speech_logits"), g.tensor("out.speech_logits")))
                    .isLessThanOrEqualTo(1e-4);
            // the first decode step is the prefill's logits (upstream: bit-exact; here a vector head vs a matrix head)
            assertThat(Golden.maxAbsDiff(o.tensor("out.step_logits").select(0, 0),
                    o.tensor("out.speech_logits").select(0, 0))).isLessThanOrEqualTo(1e-5);
        }
    }

    @Test
    void greedyDecodeMatchesTheGolden(@TempDir Path tmp) {
        Path out = tmp.resolve("out.safetensors");
        T3Component.run(Golden.ckpt(), Golden.dir().resolve("t3_greedy.safetensors"), out);
        try (SafeTensors g = Golden.load("t3_greedy.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(TensorArrays.longs(o.tensor("out.sampled_ids_all")))
                    .containsExactly(TensorArrays.longs(g.tensor("out.sampled_ids_all")));
            assertThat(TensorArrays.longs(o.tensor("out.tokens"))).containsExactly(TensorArrays.longs(g.tensor("out.tokens")));
            assertThat(Golden.maxAbsDiff(o.tensor("out.step_logits"), g.tensor("out.step_logits"))).isLessThanOrEqualTo(1e-4);
            assertThat(Golden.maxAbsDiff(o.tensor("out.step_probs"), g.tensor("out.step_probs"))).isLessThanOrEqualTo(1e-6);
            assertThat(o.metadata().get("params")).contains("max_gen_len=19");
        }
    }

    @Test
    void sampledDecodeReplaysTheUniforms(@TempDir Path tmp) {
        Path out = tmp.resolve("out.safetensors");
        T3Component.run(Golden.ckpt(), Golden.dir().resolve("t3_sampled.safetensors"), out);
        try (SafeTensors g = Golden.load("t3_sampled.safetensors");
             SafeTensors o = SafeTensors.open(out);
             PointerScope scope = new PointerScope()) {
            assertThat(TensorArrays.longs(o.tensor("out.sampled_ids_all")))
                    .containsExactly(TensorArrays.longs(g.tensor("out.sampled_ids_all")));
            assertThat(Golden.maxAbsDiff(o.tensor("out.step_probs"), g.tensor("out.step_probs"))).isLessThanOrEqualTo(1e-6);
            assertThat(o.metadata().get("sampler")).contains("inverse CDF");
        }
    }

    @Test
    void paramsMetadataOverridesTheDefaults() {
        SamplingParams p = T3Component.params(Map.of("params", "temperature=0.5 top_k=7 top_p=0.9 "
                + "repetition_penalty=1.1 max_gen_len=3"), null);
        assertThat(p).isEqualTo(new SamplingParams(0.5, 7, 0.9, 1.1, 3));
        assertThat(T3Component.params(Map.of(), new float[5]).maxGenLen()).isEqualTo(4);
        assertThat(T3Component.params(Map.of(), null)).isEqualTo(SamplingParams.defaults());
    }
}
