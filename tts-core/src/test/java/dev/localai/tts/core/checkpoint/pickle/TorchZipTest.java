package dev.localai.tts.core.checkpoint.pickle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchZipTest {
    @TempDir
    Path tmp;

    @Test
    void goldenCondsEqualTheE2eInputsExactly() throws IOException {
        Path golden = TestFiles.goldenTiny();
        Path e2e = golden.resolve("e2e.safetensors");
        CondsPt c = CondsPt.read(golden.resolve("ckpt/conds.pt"));

        assertThat(c.speakerEmb().shape()).containsExactly(1, 256);
        assertThat(c.speakerEmb().toFloatArray()).containsExactly(TestFiles.floats(e2e, "in.speaker_emb"));
        assertThat(c.condPromptSpeechTokens().shape()).containsExactly(1, 375);
        assertThat(c.condPromptSpeechTokens().toLongArray())
                .containsExactly(TestFiles.longs(e2e, "in.cond_prompt_speech_tokens"));
        assertThat(c.promptToken().shape()).containsExactly(1, 50);
        assertThat(c.promptToken().toLongArray()).containsExactly(TestFiles.longs(e2e, "in.prompt_token"));
        assertThat(c.promptTokenLen().toLongArray()).containsExactly(50L);
        // stored as a transposed (non-contiguous) view: stride (8000, 1, 100)
        assertThat(c.promptFeat().shape()).containsExactly(1, 100, 80);
        assertThat(c.promptFeat().isContiguous()).isFalse();
        assertThat(c.promptFeat().toFloatArray()).containsExactly(TestFiles.floats(e2e, "in.prompt_feat"));
        assertThat(c.embedding().shape()).containsExactly(1, 192);
        assertThat(c.embedding().toFloatArray()).containsExactly(TestFiles.floats(e2e, "in.embedding"));
        assertThat(c.emotionAdv().shape()).containsExactly(1, 1, 1);
    }

    @Test
    void goldenCondsTreeKeepsNonesAndOrder() {
        Map<String, Object> flat = TorchZip.flatten(TorchZip.readMap(TestFiles.goldenTiny().resolve("ckpt/conds.pt")));
        assertThat(flat.keySet()).containsExactly("t3.speaker_emb", "t3.clap_emb", "t3.cond_prompt_speech_tokens",
                "t3.cond_prompt_speech_emb", "t3.emotion_adv", "gen.prompt_token", "gen.prompt_token_len",
                "gen.prompt_feat", "gen.prompt_feat_len", "gen.embedding");
        assertThat(flat.get("t3.clap_emb")).isNull();
        assertThat(flat.get("gen.prompt_feat_len")).isNull();
    }

    @Test
    void writeThenReadRoundTripsConds() throws IOException {
        CondsPt golden = CondsPt.read(TestFiles.goldenTiny().resolve("ckpt/conds.pt"));
        Path f = tmp.resolve("conds.pt");
        golden.write(f);
        CondsPt back = CondsPt.read(f);
        assertThat(back.promptFeat().toFloatArray()).containsExactly(golden.promptFeat().toFloatArray());
        assertThat(back.promptFeat().isContiguous()).isTrue();
        assertThat(back.condPromptSpeechTokens().toLongArray())
                .containsExactly(golden.condPromptSpeechTokens().toLongArray());
        assertThat(back.speakerEmb().toFloatArray()).containsExactly(golden.speakerEmb().toFloatArray());
        assertThat(back.emotionAdv().toFloatArray()).containsExactly(golden.emotionAdv().toFloatArray());
        assertThat(TorchZip.flatten(TorchZip.readMap(f)).keySet())
                .isEqualTo(TorchZip.flatten(TorchZip.readMap(TestFiles.goldenTiny().resolve("ckpt/conds.pt")))
                        .keySet());

        // the layout torch's reader expects: one root folder, stored records, payloads 64-byte aligned
        try (ZipFile z = new ZipFile(f.toFile())) {
            List<String> names = new ArrayList<>();
            z.stream().forEach(e -> names.add(e.getName()));
            assertThat(names).startsWith("archive/data.pkl").endsWith("archive/version")
                    .contains("archive/data/0", "archive/data/5", "archive/byteorder");
            assertThat(z.stream().allMatch(e -> e.getMethod() == ZipEntry.STORED)).isTrue();
        }
        // writing is reproducible
        Path g = tmp.resolve("again.pt");
        golden.write(g);
        assertThat(Files.readAllBytes(g)).isEqualTo(Files.readAllBytes(f));
    }

    @Test
    void libTorchsOwnReaderLoadsWhatWeWrite() throws IOException {
        CondsPt golden = CondsPt.read(TestFiles.goldenTiny().resolve("ckpt/conds.pt"));
        Path f = tmp.resolve("conds.pt");
        golden.write(f);
        try (ByteVector bytes = new ByteVector(Files.readAllBytes(f));
             IValue root = torch.pickle_load(bytes)) {
            assertThat(root.isGenericDict()).isTrue();
            GenericDict d = root.toGenericDict();
            assertThat(d.size()).isEqualTo(2);
            try (IValue gen = d.at(new IValue("gen"));
                 IValue feat = gen.toGenericDict().at(new IValue("prompt_feat"));
                 IValue none = gen.toGenericDict().at(new IValue("prompt_feat_len"));
                 Tensor t = feat.toTensor();
                 Tensor ref = golden.promptFeat().toTensor()) {
                assertThat(none.isNone()).isTrue();
                assertThat(t.size(1)).isEqualTo(100);
                assertThat(t.equal(ref)).isTrue();
            }
        }
    }

    @Test
    void scalarsListsAndLibTorchTensorsRoundTrip() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("i", 7L);
        root.put("big", 1L << 40);
        root.put("neg", -3L);
        root.put("x", 2.5);
        root.put("flag", true);
        root.put("name", "grüß");
        root.put("none", null);
        root.put("list", List.of(1L, "a"));
        try (Tensor t = StoredTensor.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}).toTensor();
             Tensor tt = t.t()) {
            root.put("t", tt); // non-contiguous on the LibTorch side
            Path f = tmp.resolve("x.pt");
            TorchZip.write(f, root);
            Map<String, Object> back = TorchZip.readMap(f);
            assertThat(back).containsEntry("i", 7L).containsEntry("big", 1L << 40).containsEntry("neg", -3L)
                    .containsEntry("x", 2.5).containsEntry("flag", true).containsEntry("name", "grüß")
                    .containsEntry("none", null).containsEntry("list", List.of(1L, "a"));
            StoredTensor st = (StoredTensor) back.get("t");
            assertThat(st.shape()).containsExactly(3, 2);
            assertThat(st.toFloatArray()).containsExactly(1, 4, 2, 5, 3, 6);
            try (Tensor again = st.toTensor()) {
                assertThat(again.size(0)).isEqualTo(3);
                assertThat(again.get(1).get(0).item_float()).isEqualTo(2f);
            }
        }
    }

    @Test
    void refusesArbitraryGlobalsAndGarbage() throws IOException {
        // a pickle calling os.system must not run
        byte[] evil = "\u0080\u0002cos\nsystem\nX\u0002\u0000\u0000\u0000lsq\u0000\u0085R.".getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1);
        Path f = tmp.resolve("evil.pt");
        Files.write(f, TorchZip.storedZip(List.of("evil/data.pkl"), List.of(evil)));
        assertThatThrownBy(() -> TorchZip.read(f)).isInstanceOf(TorchPickleException.class)
                .hasMessageContaining("os.system");

        Path junk = tmp.resolve("junk.pt");
        Files.write(junk, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> TorchZip.read(junk)).isInstanceOf(TorchPickleException.class)
                .hasMessageContaining("junk.pt");

        Path notTorch = tmp.resolve("nt.pt");
        Files.write(notTorch, TorchZip.storedZip(List.of("a.txt"), List.of(new byte[] {1})));
        assertThatThrownBy(() -> TorchZip.read(notTorch)).hasMessageContaining("not a torch.save zip");
    }

    @Test
    void viewBeyondStorageIsRejected() {
        assertThatThrownBy(() -> new StoredTensor(TorchDType.FLOAT, new long[] {3}, new long[] {1}, 0,
                java.nio.ByteBuffer.allocate(8))).hasMessageContaining("beyond its storage");
        assertThat(Arrays.toString(StoredTensor.contiguousStrides(new long[] {2, 3, 4}))).isEqualTo("[12, 4, 1]");
    }
}
