package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.HeldTensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The per-voice prefix cache: a session that copies the voice's cached conditioning KV and prefills only
 * [text | start] follows upstream's golden greedy decode as the whole prefill does, and the cache is reused,
 * bounded and invalidated.
 */
class T3PrefixTest {
    private static T3 t3;

    @BeforeAll
    static void load() {
        t3 = T3.load(Golden.ckpt().resolve("t3_turbo_v1.safetensors"), Device.cpu(), ScalarType.Float);
    }

    @AfterAll
    static void close() {
        t3.close();
    }

    @AfterEach
    void off() {
        t3.enablePrefixCache(0);
    }

    private static T3Cond cond(SafeTensors g) {
        return new T3Cond(g.tensor("in.speaker_emb"), g.tensor("in.cond_prompt_speech_tokens"));
    }

    /** Every step's raw logits of a greedy run (and the tokens, last row). */
    private static List<float[]> greedy(T3Cond cond, Tensor text, int steps, List<Integer> tokens) {
        return greedy(t3, cond, text, steps, tokens);
    }

    private static List<float[]> greedy(T3 model, T3Cond cond, Tensor text, int steps, List<Integer> tokens) {
        List<float[]> out = new ArrayList<>();
        SamplingParams p = SamplingParams.defaults().withMaxGenLen(steps - 1);
        try (T3Session s = model.start(cond, text, p, TokenSampler.greedy())) {
            for (int t = s.next(); t != T3Session.END; t = s.next()) {
                tokens.add(t);
                float[] l = new float[(int) s.lastLogits().numel()];
                s.lastLogits().contiguous().data_ptr_float().get(l);
                out.add(l);
            }
        }
        return out;
    }

    /**
     * A prefill leaves one (L, D) residual per block alive, not every block's ten temporaries up to (L, 4D): kept to
     * its end, those made the 376-position prefix prefill of Turbo's 24 blocks hold some 500 MB at once. Here the
     * tiny T3's two blocks left 32 residuals' bytes alive before the fix, 4 after.
     */
    @Test
    void aPrefillFreesEachBlocksTemporariesAsItGoes() {
        try (SafeTensors g = Golden.load("t3_greedy.safetensors")) {
            T3Cond cond = cond(g);
            try (PointerScope outer = new PointerScope()) {
                Tensor emb = t3.condEmbeddings(cond);
                long rows = emb.size(0);
                long width = t3.config().nEmbd();
                int layers = t3.config().nLayer();
                try (KvCache cache = t3.newCache((int) rows); HeldTensors held = new HeldTensors()) {
                    Tensor hidden = t3.prefillHidden(emb, cache);
                    assertThat(hidden.size(0)).isEqualTo(rows);
                    long residual = rows * width * 4;
                    // the pass writes the cache and reads the positions' table through views: not its own
                    Tensor[] before = new Tensor[2 * layers + 1];
                    for (int l = 0; l < layers; l++) {
                        before[2 * l] = cache.k(l);
                        before[2 * l + 1] = cache.v(l);
                    }
                    before[2 * layers] = t3.tfmr.wpe.weight;
                    assertThat(held.bytes(before)).as(() -> "bytes left alive by " + layers + " blocks over " + rows
                            + " positions: " + held.describe())
                            .isLessThanOrEqualTo((layers + 4) * residual);
                }
            }
        }
    }

    @Test
    void aCachedPrefixGivesUpstreamsGreedyTokensAndTheWholePrefillsLogits() {
        boolean before = dev.localai.tts.core.nn.CpuAttention.usedForDecode();
        try {
            dev.localai.tts.core.nn.CpuAttention.useForDecode(false);
            cachedPrefixGivesTheWholePrefillsLogits("LibTorch attention");
        } finally {
            dev.localai.tts.core.nn.CpuAttention.useForDecode(before);
        }
    }

    /** The same with the native attention, which reads a cached-voice prefill's queries straight from the cache. */
    @Test
    void aCachedPrefixPrefilledByTheNativeAttentionGivesTheWholePrefillsLogits() {
        assumeTrue(dev.localai.tts.core.nn.CpuAttention.available(),
                "the native kernels are not loaded here");
        boolean before = dev.localai.tts.core.nn.CpuAttention.usedForDecode();
        try {
            List<float[]> libTorch;
            List<Integer> libTokens = new ArrayList<>();
            try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
                dev.localai.tts.core.nn.CpuAttention.useForDecode(false);
                libTorch = greedy(cond(g), g.tensor("in.text_tokens"),
                        (int) g.tensor("out.sampled_ids_all").numel(), libTokens);
            }
            assumeTrue(dev.localai.tts.core.nn.CpuAttention.useForDecode(true), "fixed off by its property");
            cachedPrefixGivesTheWholePrefillsLogits("native attention");
            // the whole prefill's attention is native too: as close to LibTorch's as rounding
            try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
                List<Integer> tokens = new ArrayList<>();
                List<float[]> nat = greedy(cond(g), g.tensor("in.text_tokens"),
                        (int) g.tensor("out.sampled_ids_all").numel(), tokens);
                assertThat(tokens).isEqualTo(libTokens);
                double worst = 0;
                for (int i = 0; i < nat.size(); i++) {
                    for (int j = 0; j < nat.get(i).length; j++) {
                        worst = Math.max(worst, Math.abs(nat.get(i)[j] - libTorch.get(i)[j]));
                    }
                }
                System.out.println("whole prefill, native vs LibTorch attention: max abs logit difference " + worst);
                assertThat(worst).isLessThanOrEqualTo(1e-5);
            }
        } finally {
            dev.localai.tts.core.nn.CpuAttention.useForDecode(before);
        }
    }

    /**
     * int8 T3 on the fused native step with an int8 cache: a cached prefix (its rows and their scales copied into each
     * session's cache) gives the whole prefill's greedy tokens, and logits as close as the cache's own rounding allows
     * (the prefix's rows come from products of another shape, so now and then a row's value sits one quantization
     * step away); a second session from the same prefix gets the first one's bits.
     */
    @Test
    void anInt8CacheCopiesItsPrefixWithTheRowScales() {
        assumeTrue(dev.localai.tts.core.nn.DecoderBlockKernel.available(), "the native kernels are not loaded here");
        boolean nativeBefore = dev.localai.tts.core.nn.Int8Matrix.nativeKernel();
        boolean fusedBefore = dev.localai.tts.core.nn.DecoderBlockKernel.enabled();
        dev.localai.tts.core.nn.KvType typeBefore = dev.localai.tts.core.nn.DecoderBlockKernel.cacheType();
        dev.localai.tts.core.nn.Int8Matrix.useNativeKernel(true);
        dev.localai.tts.core.nn.DecoderBlockKernel.use(true);
        dev.localai.tts.core.nn.DecoderBlockKernel.useCacheType(dev.localai.tts.core.nn.KvType.INT8);
        try (T3 int8 = T3.load(Golden.ckpt().resolve("t3_turbo_v1.safetensors"), Device.cpu(), ScalarType.Char);
             SafeTensors g = Golden.load("t3_greedy.safetensors");
             PointerScope scope = new PointerScope()) {
            try (KvCache c = int8.newCache(4)) {
                assertThat(c.type()).isEqualTo(dev.localai.tts.core.nn.KvType.INT8);
            }
            T3Cond cond = cond(g);
            Tensor text = g.tensor("in.text_tokens");
            int steps = (int) g.tensor("out.sampled_ids_all").numel();
            List<Integer> plainTokens = new ArrayList<>();
            List<float[]> plain = greedy(int8, cond, text, steps, plainTokens);
            int8.enablePrefixCache(64L << 20);
            List<Integer> firstTokens = new ArrayList<>();
            List<float[]> first = greedy(int8, cond, text, steps, firstTokens);
            assertThat(int8.prefixCacheBytes()).isPositive();
            List<Integer> againTokens = new ArrayList<>();
            List<float[]> again = greedy(int8, cond, text, steps, againTokens);
            assertThat(firstTokens).isEqualTo(plainTokens).isEqualTo(againTokens);
            double worst = 0;
            double norm = 0;
            for (int i = 0; i < plain.size(); i++) {
                for (int j = 0; j < plain.get(i).length; j++) {
                    worst = Math.max(worst, Math.abs(plain.get(i)[j] - first.get(i)[j]));
                    norm = Math.max(norm, Math.abs(plain.get(i)[j]));
                    assertThat(again.get(i)[j]).isEqualTo(first.get(i)[j]);
                }
            }
            System.out.println("prefix cache, int8 T3 with an int8 cache: max abs logit difference from the whole "
                    + "prefill " + worst + " (largest logit " + norm + ")");
            assertThat(worst).isLessThanOrEqualTo(1e-2 * norm);
        } finally {
            dev.localai.tts.core.nn.Int8Matrix.useNativeKernel(nativeBefore);
            dev.localai.tts.core.nn.DecoderBlockKernel.use(fusedBefore);
            dev.localai.tts.core.nn.DecoderBlockKernel.useCacheType(typeBefore);
        }
    }

    private void cachedPrefixGivesTheWholePrefillsLogits(String form) {
        try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
            T3Cond cond = cond(g);
            Tensor text = g.tensor("in.text_tokens");
            int steps = (int) g.tensor("out.sampled_ids_all").numel();
            List<Integer> plainTokens = new ArrayList<>();
            List<float[]> plain = greedy(cond, text, steps, plainTokens);
            t3.enablePrefixCache(64L << 20);
            List<Integer> firstTokens = new ArrayList<>();
            List<float[]> first = greedy(cond, text, steps, firstTokens); // builds the prefix
            long bytes = t3.prefixCacheBytes();
            assertThat(bytes).isPositive();
            List<Integer> againTokens = new ArrayList<>();
            List<float[]> again = greedy(cond, text, steps, againTokens); // reuses it
            assertThat(t3.prefixCacheBytes()).isEqualTo(bytes);
            assertThat(firstTokens).isEqualTo(plainTokens).isEqualTo(againTokens);
            Tensor expected = g.tensor("out.sampled_ids_all").reshape(-1);
            for (int i = 0; i < plainTokens.size(); i++) {
                assertThat(plainTokens.get(i)).isEqualTo((int) expected.select(0, i).item_long());
            }
            double worst = 0;
            for (int i = 0; i < plain.size(); i++) {
                for (int j = 0; j < plain.get(i).length; j++) {
                    worst = Math.max(worst, Math.abs(plain.get(i)[j] - first.get(i)[j]));
                    assertThat(again.get(i)[j]).isEqualTo(first.get(i)[j]);
                }
            }
            System.out.println("prefix cache (" + form + "): max abs logit difference from the whole prefill "
                    + worst);
            assertThat(worst).isLessThanOrEqualTo(1e-5);
        }
    }

    @Test
    void forgettingAVoiceDropsItsPrefixAndATooSmallBudgetPrefillsWhole() {
        try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
            T3Cond cond = cond(g);
            Tensor text = g.tensor("in.text_tokens");
            List<Integer> plain = new ArrayList<>();
            greedy(cond, text, 4, plain);
            t3.enablePrefixCache(64L << 20);
            greedy(cond, text, 4, new ArrayList<>());
            assertThat(t3.prefixCacheBytes()).isPositive();
            t3.forgetPrefix(cond);
            assertThat(t3.prefixCacheBytes()).isZero();
            t3.enablePrefixCache(1024);
            List<Integer> small = new ArrayList<>();
            greedy(cond, text, 4, small);
            assertThat(t3.prefixCacheBytes()).isZero();
            assertThat(small).isEqualTo(plain);
        }
    }

    @Test
    void theBudgetEvictsTheLeastRecentlyUsedVoice() {
        try (SafeTensors g = Golden.load("t3_greedy.safetensors"); PointerScope scope = new PointerScope()) {
            T3Cond a = cond(g);
            T3Cond b = cond(g); // another voice object with the same tensors: its own entry
            Tensor text = g.tensor("in.text_tokens");
            t3.enablePrefixCache(64L << 20);
            greedy(a, text, 2, new ArrayList<>());
            long one = t3.prefixCacheBytes();
            t3.enablePrefixCache(one + one / 2);
            greedy(a, text, 2, new ArrayList<>());
            greedy(b, text, 2, new ArrayList<>());
            assertThat(t3.prefixCacheBytes()).isEqualTo(one);
            t3.forgetPrefix(a); // already evicted: nothing left to drop
            assertThat(t3.prefixCacheBytes()).isEqualTo(one);
            t3.forgetPrefix(b);
            assertThat(t3.prefixCacheBytes()).isZero();
        }
    }
}
