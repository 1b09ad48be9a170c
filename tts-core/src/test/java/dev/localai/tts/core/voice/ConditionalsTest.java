package dev.localai.tts.core.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConditionalsTest {

    @TempDir
    Path tmp;

    static Conditionals sample(int seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] spk = new float[256];
        for (int i = 0; i < spk.length; i++) {
            spk[i] = (float) r.nextGaussian();
        }
        long[] cond = new long[375];
        for (int i = 0; i < cond.length; i++) {
            cond[i] = r.nextInt(6561);
        }
        long[] pt = new long[50];
        for (int i = 0; i < pt.length; i++) {
            pt[i] = r.nextInt(6561);
        }
        float[] feat = new float[100 * 80];
        for (int i = 0; i < feat.length; i++) {
            feat[i] = (float) r.nextGaussian();
        }
        float[] emb = new float[192];
        for (int i = 0; i < emb.length; i++) {
            emb[i] = (float) r.nextGaussian();
        }
        return new Conditionals(spk, cond, 0.5f, pt, 50, feat, 100, emb);
    }

    @Test
    void savesAndLoadsExactly() {
        Conditionals c = sample(1);
        Path f = tmp.resolve("c.safetensors");
        c.save(f, Map.of("model_revision", "abc"));
        Conditionals d = Conditionals.load(f);
        assertThat(d).isEqualTo(c).hasSameHashCodeAs(c);
        assertThat(d.melBins()).isEqualTo(80);
        try (SafeTensors s = SafeTensors.open(f)) {
            assertThat(s.metadata()).containsEntry("format", Conditionals.FORMAT).containsEntry("model_revision", "abc");
            assertThat(s.info(Conditionals.PROMPT_FEAT).shape()).containsExactly(1, 100, 80);
            assertThat(s.info(Conditionals.COND_PROMPT_SPEECH_TOKENS).dtype().code()).isEqualTo("I64");
            assertThat(s.info(Conditionals.EMOTION_ADV).shape()).containsExactly(1, 1, 1);
        }
        assertThat(c).isNotEqualTo(sample(2));
    }

    @Test
    void isImmutable() {
        float[] spk = new float[256];
        Conditionals c = new Conditionals(spk, new long[3], 0.5f, new long[2], 2, new float[160], 2, new float[192]);
        spk[0] = 7;
        c.speakerEmb()[0] = 9;
        assertThat(c.speakerEmb()[0]).isZero();
        try (Tensor t = c.promptFeatTensor()) {
            assertThat(t.sizes().vec().get()).containsExactly(1, 2, 80);
        }
    }

    @Test
    void readsTheGoldenConditionalsValues() {
        // e2e in.* are the values of the conds.pt the golden run wrote: same names, same shapes
        try (SafeTensors g = Golden.load("e2e.safetensors");
             Tensor spk = g.tensor("in.speaker_emb");
             Tensor cond = g.tensor("in.cond_prompt_speech_tokens");
             Tensor pt = g.tensor("in.prompt_token");
             Tensor feat = g.tensor("in.prompt_feat");
             Tensor emb = g.tensor("in.embedding")) {
            long[] ptv = TensorArrays.longs(pt);
            Conditionals c = new Conditionals(TensorArrays.floats(spk), TensorArrays.longs(cond), 0.5f, ptv,
                    ptv.length, TensorArrays.floats(feat), 100, TensorArrays.floats(emb));
            Path f = tmp.resolve("golden.safetensors");
            c.save(f);
            Conditionals d = Conditionals.load(f);
            assertThat(d.condPromptSpeechTokens()).containsExactly(TensorArrays.longs(cond));
            assertThat(d.promptFeat()).containsExactly(TensorArrays.floats(feat));
            assertThat(d.toString()).contains("375", "100x80");
        }
    }

    @Test
    void builtInVoiceFromCondsPtEqualsTheGoldenValues() {
        Conditionals c = Conditionals.builtIn(Golden.ckpt());
        try (SafeTensors g = Golden.load("e2e.safetensors");
             Tensor spk = g.tensor("in.speaker_emb");
             Tensor cond = g.tensor("in.cond_prompt_speech_tokens");
             Tensor pt = g.tensor("in.prompt_token");
             Tensor feat = g.tensor("in.prompt_feat");
             Tensor emb = g.tensor("in.embedding")) {
            assertThat(c.speakerEmb()).containsExactly(TensorArrays.floats(spk));
            assertThat(c.condPromptSpeechTokens()).containsExactly(TensorArrays.longs(cond));
            assertThat(c.promptToken()).containsExactly(TensorArrays.longs(pt));
            assertThat(c.promptTokenLen()).isEqualTo(c.promptToken().length);
            assertThat(c.promptFeat()).containsExactly(TensorArrays.floats(feat));
            assertThat(c.promptFeatFrames()).isEqualTo(100);
            assertThat(c.embedding()).containsExactly(TensorArrays.floats(emb));
            assertThat(c.emotionAdv()).isEqualTo(0.5f);
        }
    }

    @Test
    void corruptFilesAreRejectedWithACheckpointException() throws Exception {
        Path f = tmp.resolve("bad.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Conditionals.load(f)).isInstanceOf(CheckpointException.class);
        Path g = tmp.resolve("missing-keys.safetensors");
        try (Tensor t = TensorArrays.tensor(new float[] {1f}, 1, 1)) {
            dev.localai.tts.core.checkpoint.SafeTensorsWriter.write(g, Map.of(Conditionals.SPEAKER_EMB, t));
        }
        assertThatThrownBy(() -> Conditionals.load(g)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("t3.cond_prompt_speech_tokens");
    }
}
