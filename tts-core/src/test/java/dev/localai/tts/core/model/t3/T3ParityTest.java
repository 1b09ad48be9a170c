package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Parity with the upstream implementation on the tiny golden checkpoint (shared/golden/tiny, README section 6). */
class T3ParityTest {
    private static T3 t3;

    @BeforeAll
    static void load() {
        t3 = T3.load(Golden.ckpt().resolve("t3_turbo_v1.safetensors"), Device.cpu(), ScalarType.Float);
    }

    @AfterAll
    static void close() {
        t3.close();
    }

    private static T3Cond cond(SafeTensors g) {
        return new T3Cond(g.tensor("in.speaker_emb"), g.tensor("in.cond_prompt_speech_tokens"));
    }

    @Test
    void prefillMatchesCondEmbeddingsInputsHiddenStatesAndFirstLogits() {
        try (SafeTensors g = Golden.load("t3_prefill.safetensors"); PointerScope scope = new PointerScope()) {
            T3Cond cond = cond(g);
            Tensor text = g.tensor("in.text_tokens");
            Tensor condEmb = t3.condEmbeddings(cond);
            assertThat(Golden.maxAbsDiff(condEmb.unsqueeze(0), g.tensor("mid.cond_emb"))).isLessThanOrEqualTo(1e-6);
            Tensor embeds = t3.inputEmbeddings(cond, text);
            assertThat(Golden.maxAbsDiff(embeds.unsqueeze(0), g.tensor("mid.inputs_embeds")))
                    .isLessThanOrEqualTo(1e-6);
            try (KvCache cache = t3.newCache((int) embeds.size(0))) {
                Tensor hidden = t3.prefillHidden(embeds, cache);
                assertThat(Golden.maxAbsDiff(hidden.unsqueeze(0), g.tensor("mid.hidden_states")))
                        .isLessThanOrEqualTo(1e-4);
                Tensor logits = t3.speechHead(hidden.narrow(0, hidden.size(0) - 1, 1));
                double d = Golden.maxAbsDiff(logits, g.tensor("out.speech_logits"));
                System.out.println("t3 prefill logits max abs diff " + d);
                assertThat(d).isLessThanOrEqualTo(1e-4);
            }
        }
    }

    @Test
    void greedyDecodeMatchesStepLogitsProbsAndIds() {
        try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
            long[] expectedIds = ids(g.tensor("out.sampled_ids_all"));
            Tensor stepLogits = g.tensor("out.step_logits");
            Tensor stepProbs = g.tensor("out.step_probs");
            SamplingParams p = SamplingParams.defaults().withMaxGenLen(expectedIds.length - 1);
            double worstLogit = 0;
            double worstProb = 0;
            try (T3Session s = t3.start(cond(g), g.tensor("in.text_tokens"), p, TokenSampler.greedy())) {
                for (int step = 0; step < expectedIds.length; step++) {
                    int tok = s.next();
                    worstLogit = Math.max(worstLogit, Golden.maxAbsDiff(s.lastLogits(), stepLogits.select(0, step)));
                    worstProb = Math.max(worstProb, Golden.maxAbsDiff(s.lastProbs(), stepProbs.select(0, step)));
                    assertThat(tok).as("token %d", step).isEqualTo((int) expectedIds[step]);
                }
                assertThat(s.next()).isEqualTo(T3Session.END);
                assertThat(s.generateAll()).containsExactly(toInts(ids(g.tensor("out.tokens"))));
            }
            System.out.println("t3 greedy: step logits max abs diff " + worstLogit + ", probs " + worstProb);
            assertThat(worstLogit).isLessThanOrEqualTo(1e-4);
            assertThat(worstProb).isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void sampledDecodeWithInjectedUniformsGivesIdenticalIds() {
        try (SafeTensors g = Golden.load("t3_sampled.safetensors"); PointerScope scope = new PointerScope()) {
            long[] expectedIds = ids(g.tensor("out.sampled_ids_all"));
            float[] u = floats(g.tensor("in.uniforms"));
            SamplingParams p = SamplingParams.defaults().withMaxGenLen(expectedIds.length - 1);
            int[] got = t3.generate(cond(g), toInts(ids(g.tensor("in.text_tokens"))), p,
                    TokenSampler.inverseCdf(UniformSource.of(u)));
            assertThat(got).containsExactly(toInts(ids(g.tensor("out.tokens"))));
            assertThat(got).containsExactly(toInts(expectedIds));
        }
    }

    @Test
    void sessionStreamsTheSameTokensAsGenerateAllAndSeededRunsRepeat() {
        try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
            int[] text = toInts(ids(g.tensor("in.text_tokens")));
            SamplingParams p = SamplingParams.defaults().withMaxGenLen(12);
            int[] a = t3.generate(cond(g), text, p, TokenSampler.seeded(42));
            int[] b = t3.generate(cond(g), text, p, TokenSampler.seeded(42));
            assertThat(a).containsExactly(b).hasSizeBetween(1, 13);
            int[] streamed;
            try (T3Session s = t3.start(cond(g), text, p, TokenSampler.seeded(42))) {
                java.util.List<Integer> l = new java.util.ArrayList<>();
                for (int t = s.next(); t != T3Session.END; t = s.next()) {
                    l.add(t);
                }
                streamed = l.stream().mapToInt(Integer::intValue).toArray();
                assertThat(s.cache().capacity()).isEqualTo(1 + 375 + text.length + 1 + 12);
            }
            int n = streamed.length;
            if (n > 1 && streamed[n - 1] == 6562) {
                n--;
            }
            assertThat(java.util.Arrays.copyOf(streamed, n)).containsExactly(a);
        }
    }

    private static long[] ids(Tensor t) {
        Tensor flat = t.reshape(-1);
        long[] out = new long[(int) flat.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = flat.get(i).item_long();
        }
        return out;
    }

    private static float[] floats(Tensor t) {
        Tensor flat = t.reshape(-1);
        float[] out = new float[(int) flat.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = flat.get(i).item_float();
        }
        return out;
    }

    private static int[] toInts(long[] l) {
        return java.util.Arrays.stream(l).mapToInt(x -> (int) x).toArray();
    }
}
