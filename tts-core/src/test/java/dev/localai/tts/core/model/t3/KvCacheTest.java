package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.nn.KvType;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.KvRows;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The int8 KV cache's LibTorch form: rows written through {@link KvCache#write} (from strided, transposed views, as a
 * prefill hands them over) hold the plain-Java reference's bits ({@link KvRows}, which {@code DecoderBlockKernelTest}
 * holds the C kernel to), values and row scales, at the positions written and nowhere else; {@link KvCache#keys} gives
 * q * scale; a prefix copy carries the scales; rows of zeros and rows with a NaN are kept as the kernel keeps them.
 */
class KvCacheTest {
    private static final int LAYERS = 2;
    private static final int HEADS = 3;
    private static final int HD = 64;
    private static final int CAP = 40;

    @BeforeAll
    static void load() {
        Torch.load();
    }

    private static KvCache int8Cache() {
        try (Device cpu = new Device("cpu")) {
            return new KvCache(LAYERS, HEADS, HD, CAP, ScalarType.Char, cpu);
        }
    }

    private static float[] floats(Tensor t) {
        Tensor c = t.to(ScalarType.Float).contiguous();
        float[] a = new float[(int) c.numel()];
        c.data_ptr_float().get(a);
        return a;
    }

    @Test
    void writtenRowsHoldTheReferenceBitsAndReadBackAsQTimesScale() {
        try (KvCache cache = int8Cache(); PointerScope scope = new PointerScope()) {
            assertThat(cache.type()).isEqualTo(KvType.INT8);
            assertThat(cache.nativeReadable()).isTrue();
            assertThat(cache.bytes()).isEqualTo(2L * LAYERS * (HEADS * CAP * HD + HEADS * CAP * 4L));
            Generator g = torch.createCPUGenerator(3);
            int from = 5;
            int n = 7;
            // (n, heads, hd) seen as (heads, n, hd), as a prefill's q|k|v product leaves the keys: not contiguous
            Tensor x = torch.randn(new long[] {n, HEADS, HD}, new GeneratorOptional(g), new TensorOptions(
                    ScalarType.Float)).mul_(new Scalar(4.0));
            x.select(0, 2).select(0, 1).zero_(); // a row of zeros
            x.select(0, 4).select(0, 0).narrow(0, 0, 1).mul_(new Scalar(1e6)); // one large value in a row
            Tensor keys = x.transpose(0, 1);
            Tensor values = x.mul(new Scalar(-0.5)).transpose(0, 1);
            cache.write(1, from, keys, values);
            for (int which = 0; which < 2; which++) {
                float[] ref = floats((which == 0 ? keys : values).contiguous()); // (heads, n, hd)
                byte[] q = new byte[ref.length];
                float[] sc = new float[HEADS * n];
                for (int r = 0; r < HEADS * n; r++) {
                    sc[r] = KvRows.quantize(ref, r * HD, HD, q);
                }
                Tensor got = (which == 0 ? cache.k(1) : cache.v(1)).narrow(1, from, n);
                float[] gotQ = floats(got);
                for (int i = 0; i < q.length; i++) {
                    assertThat(gotQ[i]).as("element %d", i).isEqualTo(q[i]);
                }
                Tensor read = which == 0 ? cache.keys(1, from + n) : cache.values(1, from + n);
                float[] deq = floats(read.narrow(1, from, n));
                for (int i = 0; i < q.length; i++) {
                    assertThat(deq[i]).isEqualTo(q[i] * sc[i / HD]);
                    // within half a step of the value written
                    assertThat(Math.abs(deq[i] - ref[i])).isLessThanOrEqualTo(sc[i / HD] * 0.5f * 1.0001f);
                }
            }
            // the zero row reads back as zeros with scale 0
            assertThat(torch.count_nonzero(cache.keys(1, from + n).select(0, 1).select(0, from + 2)).item_long())
                    .isZero();
            assertThat(cache.keys(1, from + n).dtype().toScalarType().value).isEqualTo(ScalarType.Float.value);
        }
    }

    @Test
    void aRowWithANanReadsBackAsNanAndAPrefixCopyCarriesTheScales() {
        try (KvCache a = int8Cache(); KvCache b = int8Cache(); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(5);
            Tensor k = torch.randn(new long[] {HEADS, 6, HD}, new GeneratorOptional(g), new TensorOptions(
                    ScalarType.Float));
            Tensor v = torch.randn(new long[] {HEADS, 6, HD}, new GeneratorOptional(g), new TensorOptions(
                    ScalarType.Float));
            for (int l = 0; l < LAYERS; l++) {
                a.write(l, 0, k, v.mul(new Scalar(l + 1.0)));
            }
            a.setLength(6);
            b.copyPrefix(a);
            assertThat(b.length()).isEqualTo(6);
            for (int l = 0; l < LAYERS; l++) {
                assertThat(torch.equal(b.keys(l, 6), a.keys(l, 6))).isTrue();
                assertThat(torch.equal(b.values(l, 6), a.values(l, 6))).isTrue();
            }
            Tensor bad = k.clone();
            bad.select(1, 3).select(0, 2).select(0, 9).fill_(new Scalar(Float.NaN));
            a.write(0, 0, bad, v);
            Tensor row = a.keys(0, 6).select(0, 2).select(0, 3);
            assertThat(torch.isnan(row).all().item_bool()).as("the row with the NaN").isTrue();
            assertThat(torch.isfinite(a.keys(0, 6).select(0, 1)).all().item_bool()).as("the other heads").isTrue();
            try (Device cpu = new Device("cpu");
                 KvCache half = new KvCache(LAYERS, HEADS, HD, CAP, ScalarType.Half, cpu)) {
                assertThatThrownBy(() -> half.copyPrefix(a)).isInstanceOf(IllegalArgumentException.class);
            }
        }
    }
}
