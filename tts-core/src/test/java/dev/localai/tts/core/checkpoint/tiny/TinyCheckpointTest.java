package dev.localai.tts.core.checkpoint.tiny;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.TensorInfo;
import dev.localai.tts.core.checkpoint.pickle.CondsPt;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TinyCheckpointTest {
    @TempDir
    static Path tmp;
    static Path out;
    static Map<String, LinkedHashMap<String, long[]>> goldenInventory;

    @BeforeAll
    static void generate() throws IOException {
        goldenInventory = TinyCheckpoint.inventoryOf(Golden.ckpt(), ChatterboxTurboFiles.WEIGHTS);
        out = tmp.resolve("ckpt");
        TinyCheckpoint.generate(out, 7, goldenInventory, 1024, TinyCheckpoint.CondsSpec.tiny());
    }

    @Test
    void weightsHaveTheOfficialKeysShapesAndDtypes() {
        for (String f : ChatterboxTurboFiles.WEIGHTS) {
            try (SafeTensors gen = SafeTensors.open(out.resolve(f));
                 SafeTensors ref = SafeTensors.open(Golden.ckpt().resolve(f))) {
                assertThat(gen.keys()).as(f).containsExactlyInAnyOrderElementsOf(ref.keys());
                for (String k : ref.keys()) {
                    TensorInfo a = gen.info(k);
                    TensorInfo b = ref.info(k);
                    assertThat(a.shape()).as(k).isEqualTo(b.shape());
                    assertThat(a.dtype()).as(k).isEqualTo(b.dtype());
                }
            }
        }
        assertThat(goldenInventory.get("t3_turbo_v1.safetensors")).hasSize(35);
        assertThat(goldenInventory.get("s3gen_meanflow.safetensors")).hasSize(1438);
        assertThat(goldenInventory.get("ve.safetensors")).hasSize(16);
    }

    @Test
    void bundledInventoryIsTheGoldenOne() {
        Map<String, LinkedHashMap<String, long[]>> bundled = TinyCheckpoint.bundledTinyInventory();
        assertThat(bundled.keySet()).containsExactlyInAnyOrderElementsOf(goldenInventory.keySet());
        for (String f : bundled.keySet()) {
            assertThat(bundled.get(f).keySet()).containsExactlyElementsOf(goldenInventory.get(f).keySet());
            bundled.get(f).forEach((k, s) -> assertThat(s).as(k).isEqualTo(goldenInventory.get(f).get(k)));
        }
    }

    @Test
    void valuesFollowTheKindOfEachKey() {
        try (SafeTensors gen = SafeTensors.open(out.resolve("s3gen_meanflow.safetensors"));
             SafeTensors ref = SafeTensors.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"))) {
            for (String k : gen.keys()) {
                try (Tensor t = gen.tensor(k)) {
                    if (k.endsWith("running_var")) {
                        assertThat(t.min().item_float()).as(k).isGreaterThan(0.99f);
                    } else if (k.endsWith("num_batches_tracked")) {
                        assertThat(t.sum().item_long()).as(k).isZero();
                    } else if (k.endsWith("bn1.weight")) {
                        assertThat(Math.abs(t.mean().item_float() - 1)).as(k).isLessThan(0.2f);
                    }
                }
            }
            // the fixed buffers of the S3 tokenizer are the real Hann window and Slaney mel filterbank
            for (String k : List.of("tokenizer.window", "tokenizer._mel_filters")) {
                try (Tensor a = gen.tensor(k); Tensor b = ref.tensor(k)) {
                    assertThat(Golden.maxAbsDiff(a, b)).as(k).isLessThan(1e-6);
                }
            }
            // weights: N(0, 1/sqrt(fan_in))
            try (Tensor w = gen.tensor("flow.encoder.encoders.0.feed_forward.w_1.weight")) {
                double std = w.std().item_float();
                assertThat(std).isBetween(0.8 / Math.sqrt(w.size(1)), 1.2 / Math.sqrt(w.size(1)));
            }
        }
        try (SafeTensors t3 = SafeTensors.open(out.resolve("t3_turbo_v1.safetensors"));
             Tensor w = t3.tensor("tfmr.h.0.attn.c_attn.weight")) {
            // HF Conv1D is (in, out): fan_in is the first dimension
            assertThat((double) w.std().item_float()).isBetween(0.8 / Math.sqrt(w.size(0)), 1.2 / Math.sqrt(w.size(0)));
        }
    }

    @Test
    void generationIsSeededAndReproducible() throws IOException {
        Map<String, LinkedHashMap<String, long[]>> small = Map.of("ve.safetensors",
                goldenInventory.get("ve.safetensors"));
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        Path c = tmp.resolve("c");
        TinyCheckpoint.generate(a, 7, small, 1024, TinyCheckpoint.CondsSpec.tiny());
        TinyCheckpoint.generate(b, 7, small, 1024, TinyCheckpoint.CondsSpec.tiny());
        TinyCheckpoint.generate(c, 8, small, 1024, TinyCheckpoint.CondsSpec.tiny());
        for (String f : List.of("ve.safetensors", "conds.pt", "vocab.json", "merges.txt")) {
            assertThat(Files.readAllBytes(a.resolve(f))).as(f).isEqualTo(Files.readAllBytes(b.resolve(f)));
        }
        assertThat(Files.readAllBytes(a.resolve("ve.safetensors")))
                .isNotEqualTo(Files.readAllBytes(c.resolve("ve.safetensors")));
        assertThat(Files.readAllBytes(a.resolve("conds.pt"))).isNotEqualTo(Files.readAllBytes(c.resolve("conds.pt")));
        // the same key gets the same values whatever else is in the inventory
        try (SafeTensors x = SafeTensors.open(a.resolve("ve.safetensors"));
             SafeTensors y = SafeTensors.open(out.resolve("ve.safetensors"));
             Tensor p = x.tensor("lstm.weight_ih_l0"); Tensor q = y.tensor("lstm.weight_ih_l0")) {
            assertThat(p.equal(q)).isTrue();
        }
    }

    @Test
    void tokenizerIsARealByteLevelBpeOf1024Entries() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode vocab = json.readTree(out.resolve("vocab.json").toFile());
        JsonNode added = json.readTree(out.resolve("added_tokens.json").toFile());
        assertThat(vocab.size() + added.size()).isEqualTo(1024);
        assertThat(added.size()).isEqualTo(19);
        assertThat(vocab.get("!").asInt()).isZero(); // GPT-2's byte order
        assertThat(vocab.get("Ā").asInt()).isEqualTo(188); // byte 0
        assertThat(vocab.get("Ġ").asInt()).isEqualTo(220); // the space byte, as in GPT-2
        assertThat(vocab.get("<|endoftext|>").asInt()).isEqualTo(1004);
        assertThat(added.get("[angry]").asInt()).isEqualTo(1005);
        assertThat(added.get("[laugh]").asInt()).isEqualTo(1023);
        assertThat(added.get("[clear throat]").asInt()).isEqualTo(1015);
        List<String> merges = Files.readAllLines(out.resolve("merges.txt"));
        assertThat(merges.get(0)).isEqualTo("#version: 0.2");
        assertThat(merges).hasSize(1 + 748);
        // each merge result is in the vocabulary, with ids in merge order
        for (int i = 1; i < merges.size(); i++) {
            String[] p = merges.get(i).split(" ");
            assertThat(vocab.get(p[0] + p[1]).asInt()).isEqualTo(255 + i);
        }
        assertThat(vocab.has("Ġthe")).isTrue();
        JsonNode cfg = json.readTree(out.resolve("tokenizer_config.json").toFile());
        assertThat(cfg.get("model_max_length").asInt()).isEqualTo(1024);
        assertThat(cfg.get("add_bos_token").asBoolean()).isFalse();
        assertThat(json.readTree(out.resolve("special_tokens_map.json").toFile()).get("eos_token").asText())
                .isEqualTo("<|endoftext|>");
    }

    @Test
    void condsHaveTheOfficialStructure() {
        CondsPt c = CondsPt.read(out.resolve("conds.pt"));
        assertThat(c.speakerEmb().shape()).containsExactly(1, 256);
        assertThat(c.condPromptSpeechTokens().shape()).containsExactly(1, 375);
        assertThat(c.promptToken().shape()).containsExactly(1, 50);
        assertThat(c.promptTokenLen().toLongArray()).containsExactly(50L);
        assertThat(c.promptFeat().shape()).containsExactly(1, 100, 80);
        assertThat(c.embedding().shape()).containsExactly(1, 192);
        assertThat(c.emotionAdv().shape()).containsExactly(1, 1, 1);
        assertThat(Arrays.stream(c.condPromptSpeechTokens().toLongArray()).allMatch(t -> t >= 0 && t < 6561)).isTrue();
        double norm = 0;
        for (float f : c.speakerEmb().toFloatArray()) {
            norm += f * f;
        }
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        // the same structure (keys and None entries) as the golden conds.pt
        assertThat(dev.localai.tts.core.checkpoint.pickle.TorchZip.flatten(
                dev.localai.tts.core.checkpoint.pickle.TorchZip.readMap(out.resolve("conds.pt"))).keySet())
                .containsExactlyElementsOf(dev.localai.tts.core.checkpoint.pickle.TorchZip.flatten(
                        dev.localai.tts.core.checkpoint.pickle.TorchZip.readMap(Golden.ckpt().resolve("conds.pt")))
                        .keySet());
    }
}
