package dev.localai.tts.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    private static Tensor randn(long... shape) {
        return torch.randn(shape);
    }

    @Test
    void roundTripsEveryDtypeBitExactly() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(7);
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a.weight", randn(3, 5));
            in.put("a.bias", randn(5));
            in.put("half", randn(4, 2).to(ScalarType.Half));
            in.put("bf16", randn(2, 3, 2).to(ScalarType.BFloat16));
            in.put("f64", randn(3).to(ScalarType.Double));
            in.put("ids", torch.arange(new org.bytedeco.pytorch.Scalar(10)));
            in.put("i32", torch.arange(new org.bytedeco.pytorch.Scalar(6)).to(ScalarType.Int).reshape(2, 3));
            in.put("mask", randn(5).gt(new org.bytedeco.pytorch.Scalar(0)));
            in.put("scalar", randn(1).reshape());
            in.put("empty", torch.zeros(0, 4));
            in.put("strided", randn(4, 6).t());
            Path f = tmp.resolve("x.safetensors");
            SafeTensorsWriter.write(f, in, Map.of("format", "pt"));
            try (SafeTensors st = SafeTensors.open(f)) {
                assertThat(st.keys()).containsExactlyElementsOf(in.keySet());
                assertThat(st.metadata()).containsEntry("format", "pt");
                assertThat(st.info("bf16").dtype()).isEqualTo(DType.BF16);
                assertThat(st.info("strided").shape()).containsExactly(6, 4);
                for (var e : in.entrySet()) {
                    Tensor got = st.tensor(e.getKey());
                    assertThat(got.scalar_type().value).as(e.getKey()).isEqualTo(e.getValue().scalar_type().value);
                    assertThat(got.sizes().vec().get()).as(e.getKey()).containsExactly(e.getValue().sizes().vec().get());
                    assertThat(torch.equal(got, e.getValue())).as(e.getKey()).isTrue();
                    Tensor read = st.read(e.getKey());
                    assertThat(read.scalar_type().value).as(e.getKey()).isEqualTo(e.getValue().scalar_type().value);
                    assertThat(read.sizes().vec().get()).as(e.getKey())
                            .containsExactly(e.getValue().sizes().vec().get());
                    assertThat(torch.equal(read, e.getValue())).as(e.getKey() + " read").isTrue();
                }
            }
        }
    }

    /**
     * Both ways a CPU weight is taken (read into its tensor, or copied out of the mapping; which one depends on the
     * machine's huge pages) give the same tensors: every stored type, converted to the view's floating type or kept
     * (integers), owned (never the mapping) and valid after the file is closed.
     */
    @Test
    void aWeightTakenByReadingEqualsOneCopiedOutOfTheMapping() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(11);
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("f32", randn(33, 65));
            in.put("bf16", randn(7, 9).to(ScalarType.BFloat16));
            in.put("f16", randn(12).to(ScalarType.Half));
            in.put("ids", torch.arange(new org.bytedeco.pytorch.Scalar(10)));
            in.put("empty", torch.zeros(0, 4));
            Path f = tmp.resolve("both.safetensors");
            SafeTensorsWriter.write(f, in);
            for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                Map<String, Tensor[]> got = new LinkedHashMap<>();
                try (SafeTensors st = SafeTensors.open(f); StateDict sd = StateDict.of(st, Device.cpu(), type, false)) {
                    for (String k : in.keySet()) {
                        Tensor read = sd.take(true, k);
                        Tensor copied = sd.take(false, k);
                        if (read.numel() > 0) {
                            assertThat(read.data_ptr().address()).as(k)
                                    .isNotEqualTo(st.tensor(k).data_ptr().address());
                        }
                        got.put(k, new Tensor[] {read, copied});
                    }
                    sd.requireAllConsumed();
                }
                for (var e : got.entrySet()) {
                    Tensor read = e.getValue()[0];
                    Tensor copied = e.getValue()[1];
                    String what = e.getKey() + " as " + type;
                    ScalarType want = e.getKey().equals("ids") ? ScalarType.Long : type;
                    assertThat(read.scalar_type().value).as(what).isEqualTo(want.value);
                    assertThat(copied.scalar_type().value).as(what).isEqualTo(want.value);
                    assertThat(torch.equal(read, copied)).as(what).isTrue();
                    assertThat(torch.equal(read, in.get(e.getKey()).to(want))).as(what).isTrue();
                }
            }
        }
    }

    /**
     * A read tensor is the file's bytes in memory of its own: never the mapping, equal to it bit for bit (over more
     * than one read call's worth is not testable at 1 GiB here; the chunk loop is the same for every length), and
     * still valid after the file is closed; a file cut short under a reader is a CheckpointException naming the key,
     * not a crash.
     */
    @Test
    void readGivesTheBytesInMemoryOfItsOwnAndSaysWhenTheFileWasCut() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = tmp.resolve("r.safetensors");
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a", randn(300, 257));
            in.put("b", randn(1000, 1000));
            SafeTensorsWriter.write(f, in);
            Tensor b;
            try (SafeTensors st = SafeTensors.open(f)) {
                b = st.read("b");
                Tensor view = st.tensor("b");
                assertThat(b.data_ptr().address()).isNotEqualTo(view.data_ptr().address());
                assertThat(torch.equal(b, view)).isTrue();
                assertThat(b.is_contiguous()).isTrue();
            }
            assertThat(torch.equal(b, in.get("b"))).as("after the file is closed").isTrue();

            try (SafeTensors st = SafeTensors.open(f)) {
                String last = st.info("a").begin() > st.info("b").begin() ? "a" : "b";
                String first = last.equals("a") ? "b" : "a";
                long size = Files.size(f);
                try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(size - 4096);
                }
                assertThatThrownBy(() -> st.read(last)).isInstanceOf(CheckpointException.class)
                        .hasMessageContaining("'" + last + "'").hasMessageContaining("ended inside");
                assertThat(torch.equal(st.read(first), in.get(first))).as("a tensor before the cut").isTrue();
            }
        }
    }

    @Test
    void tensorIsAZeroCopyViewOfTheMapping() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = tmp.resolve("v.safetensors");
            SafeTensorsWriter.write(f, Map.of("w", torch.ones(1024, 1024)));
            try (SafeTensors st = SafeTensors.open(f)) {
                Tensor a = st.tensor("w");
                assertThat(a.sum().item_float()).isEqualTo(1024f * 1024f);
                // the header is 8-byte aligned, so the fp32 data is aligned too
                assertThat(a.data_ptr().address() % 4).isZero();
            }
        }
    }

    @Test
    void readsTheGoldenCheckpoints() {
        for (String name : new String[] {"t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors", "ve.safetensors"}) {
            try (SafeTensors st = SafeTensors.open(Golden.ckpt().resolve(name))) {
                assertThat(st.keys()).isNotEmpty();
                String first = st.keys().iterator().next();
                try (Tensor t = st.tensor(first)) {
                    assertThat(t.numel()).isEqualTo(st.info(first).numel());
                }
            }
        }
        try (SafeTensors st = SafeTensors.open(Golden.ckpt().resolve("t3_turbo_v1.safetensors"))) {
            assertThat(st.keys()).hasSize(35).contains("tfmr.wte.weight");
        }
    }

    @Test
    void stateDictChecksShapesAndTracksConsumedKeys() {
        try (PointerScope scope = new PointerScope()) {
            Path f = tmp.resolve("m.safetensors");
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("blk.0.w", randn(2, 3));
            in.put("blk.0.b", randn(3).to(ScalarType.BFloat16));
            in.put("unused", randn(1));
            SafeTensorsWriter.write(f, in);
            try (StateDict sd = StateDict.open(f, Device.cpu())) {
                StateDict blk = sd.sub("blk").sub("0");
                Tensor w = blk.take("w", 2, 3);
                assertThat(torch.equal(w, in.get("blk.0.w"))).isTrue();
                Tensor b = blk.take("b", -1);
                assertThat(b.scalar_type().value).isEqualTo(ScalarType.Float.value);
                assertThatThrownBy(() -> blk.take("w", 3, 2))
                        .isInstanceOf(CheckpointException.class)
                        .hasMessageContaining("'blk.0.w'").hasMessageContaining("[2, 3]").hasMessageContaining("[3, 2]");
                assertThatThrownBy(() -> blk.take("missing"))
                        .isInstanceOf(CheckpointException.class).hasMessageContaining("'blk.0.missing'");
                assertThat(sd.unconsumedKeys()).containsExactly("unused");
                assertThatThrownBy(sd::requireAllConsumed).hasMessageContaining("unused");
                sd.skip("unused");
                sd.requireAllConsumed();
                // the copy outlives the file
                sd.close();
                assertThat(w.sum().item_float()).isEqualTo(in.get("blk.0.w").sum().item_float());
            }
        }
    }

    private Path valid() {
        try (PointerScope scope = new PointerScope()) {
            Path f = tmp.resolve("ok.safetensors");
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a", randn(4, 4));
            in.put("b", randn(8));
            SafeTensorsWriter.write(f, in);
            return f;
        }
    }

    private Path withHeader(String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = tmp.resolve("h" + System.nanoTime() + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    @Test
    void truncatedFileIsReportedWithTheKey() throws IOException {
        Path f = valid();
        byte[] all = Files.readAllBytes(f);
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 10));
        assertThatThrownBy(() -> SafeTensors.open(cut))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("truncated").hasMessageContaining("'b'");
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, Arrays.copyOf(all, 5));
        assertThatThrownBy(() -> SafeTensors.open(tiny)).isInstanceOf(CheckpointException.class).hasMessageContaining("too short");
        Path headerCut = tmp.resolve("hc.safetensors");
        Files.write(headerCut, Arrays.copyOf(all, 20));
        assertThatThrownBy(() -> SafeTensors.open(headerCut)).isInstanceOf(CheckpointException.class).hasMessageContaining("truncated");
    }

    @Test
    void corruptHeadersAreReported() throws IOException {
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8)))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"Q4\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8)))
                .hasMessageContaining("unsupported dtype Q4").hasMessageContaining("'a'");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8)))
                .hasMessageContaining("needs 12");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12)))
                .hasMessageContaining("overlaps");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12)))
                .hasMessageContaining("hole");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 16)))
                .hasMessageContaining("not covered");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8)))
                .hasMessageContaining("invalid dimension");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("{\"a\": 1, \"a\": 2}", 0)))
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> SafeTensors.open(withHeader("[]", 0))).hasMessageContaining("not a JSON object");
        Path garbage = tmp.resolve("garbage.safetensors");
        Files.write(garbage, "this is not a checkpoint at all".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> SafeTensors.open(garbage)).hasMessageContaining("not plausible");
        assertThatThrownBy(() -> SafeTensors.open(tmp.resolve("nope.safetensors")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("not found");
    }

    @Test
    void closedFileRefusesNewViews() {
        Path f = valid();
        SafeTensors st = SafeTensors.open(f);
        st.close();
        assertThatThrownBy(() -> st.tensor("a")).isInstanceOf(IllegalStateException.class);
    }
}
