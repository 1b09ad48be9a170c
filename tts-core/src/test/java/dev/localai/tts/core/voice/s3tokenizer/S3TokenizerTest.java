package dev.localai.tts.core.voice.s3tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.checkpoint.TensorInfo;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class S3TokenizerTest {
    @BeforeAll
    static void init() {
        Torch.init(1);
    }

    @Test
    void stateDictShapesEqualTheTinyCheckpointsTokenizerSubset() {
        try (SafeTensors f = SafeTensors.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"))) {
            Map<String, String> expected = new TreeMap<>();
            for (Map.Entry<String, TensorInfo> e : f.infos().entrySet()) {
                if (e.getKey().startsWith("tokenizer.")) {
                    expected.put(e.getKey(), Arrays.toString(e.getValue().shape()));
                }
            }
            Map<String, String> ours = new TreeMap<>();
            S3Tokenizer.stateDictShapes(S3TokenizerConfig.tiny()).forEach((k, v) -> ours.put(k, Arrays.toString(v)));
            assertThat(ours).isEqualTo(expected);
        }
    }

    @Test
    void turboShapesHave104Tensors() {
        LinkedHashMap<String, long[]> m = S3Tokenizer.stateDictShapes(S3TokenizerConfig.turbo());
        assertThat(m).hasSize(104);
        assertThat(m.get("tokenizer.encoder.blocks.5.mlp.0.weight")).containsExactly(5120, 1280);
    }

    @Test
    void tokensMatchGolden() {
        try (SafeTensors g = Golden.load("s3tokenizer.safetensors");
             StateDict root = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
             S3Tokenizer tok = new S3Tokenizer(root.sub("tokenizer"), S3TokenizerConfig.tiny());
             Tensor wav = g.tensor("in.wav16k");
             S3Tokenizer.Result r = tok.tokenize(wav, 375)) {
            assertThat(root.sub("tokenizer").unconsumedKeys()).isEmpty();
            try (Tensor mel = g.tensor("mid.log_mel"); Tensor pre = g.tensor("mid.fsq_prequant");
                 Tensor tokens = g.tensor("out.tokens"); Tensor lens = g.tensor("out.token_lens")) {
                assertThat(Golden.maxAbsDiff(mel, r.logMel())).isLessThan(1e-5);
                assertThat(Golden.maxAbsDiff(pre, r.prequant())).isLessThan(1e-4);
                assertThat(r.tokens().shape()).containsExactly(tokens.shape());
                assertThat(longs(r.tokens())).containsExactly(longs(tokens));
                assertThat(r.length()).isEqualTo(lens.item_long());
                assertThat(S3Tokenizer.tokenCount(wav.size(0), 375)).isEqualTo(lens.item_long());
            }
        }
    }

    static long[] longs(Tensor t) {
        Tensor c = t.contiguous();
        long[] out = new long[(int) c.numel()];
        org.bytedeco.javacpp.indexer.LongIndexer ix = c.reshape(-1).createIndexer();
        for (int i = 0; i < out.length; i++) {
            out[i] = ix.get(i);
        }
        return out;
    }
}
