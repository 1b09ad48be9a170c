package dev.localai.tts.core.voice.ref;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.campplus.CampPlusConfig;
import dev.localai.tts.core.voice.s3tokenizer.S3TokenizerConfig;
import org.bytedeco.javacpp.indexer.LongIndexer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbedRefTest {
    @BeforeAll
    static void init() {
        Torch.init(1);
    }

    @Test
    void configsAreInferredFromTheTinyCheckpoint() {
        try (StateDict root = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu())) {
            assertThat(S3TokenizerConfig.inferFrom(root.sub("tokenizer"))).isEqualTo(S3TokenizerConfig.tiny());
            assertThat(CampPlusConfig.inferFrom(root.sub("speaker_encoder"))).isEqualTo(CampPlusConfig.tiny());
        }
    }

    @Test
    void embedRefMatchesGolden() {
        try (SafeTensors g = Golden.load("embed_ref.safetensors");
             StateDict root = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
             EmbedRef embedRef = EmbedRef.load(root);
             Tensor wav = g.tensor("in.wav24k");
             S3GenRef ref = embedRef.embed(wav);
             Tensor wav16 = g.tensor("mid.wav_resampled_16k");
             Tensor feat = g.tensor("out.prompt_feat");
             Tensor tokens = g.tensor("out.prompt_token");
             Tensor tokenLen = g.tensor("out.prompt_token_len");
             Tensor emb = g.tensor("out.embedding")) {
            assertThat(Golden.maxAbsDiff(wav16, ref.wav16k())).isLessThan(1e-6);
            assertThat(Golden.maxAbsDiff(feat, ref.promptFeat())).isLessThan(1e-4);
            assertThat(ref.promptToken().shape()).containsExactly(tokens.shape());
            assertThat(longs(ref.promptToken())).containsExactly(longs(tokens));
            assertThat(ref.promptTokenLen()).isEqualTo(tokenLen.item_long());
            assertThat(Golden.maxAbsDiff(emb, ref.embedding())).isLessThan(1e-4);
        }
    }

    @Test
    void tokensAreCutToHalfTheMelFramesWhenTheClipIsNotAMultipleOf40ms() {
        try (SafeTensors g = Golden.load("embed_ref.safetensors");
             StateDict root = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
             EmbedRef embedRef = EmbedRef.load(root);
             Tensor wav = g.tensor("in.wav24k");
             Tensor cut = wav.narrow(0, 0, 47000);
             S3GenRef ref = embedRef.embed(cut)) {
            // 47000 samples: 97 mel frames at 24 kHz; 31334 samples at 16 kHz -> 195 frames -> 49 tokens -> cut to 48
            assertThat(ref.wav16k().size(1)).isEqualTo(31334);
            assertThat(ref.promptFeat().shape()).containsExactly(1, 97, 80);
            assertThat(ref.promptToken().shape()).containsExactly(1, 48);
            assertThat(ref.promptTokenLen()).isEqualTo(48);
        }
    }

    static long[] longs(Tensor t) {
        Tensor c = t.contiguous().reshape(-1);
        LongIndexer ix = c.createIndexer();
        long[] out = new long[(int) c.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ix.get(i);
        }
        return out;
    }
}
