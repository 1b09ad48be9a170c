package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bf16 linear layers with their weight packed once in oneDNN's layout ({@link Linear#packed()}): as close to an fp32
 * product as LibTorch's own bf16 product, within bf16 rounding of it, at the S3Gen flow's sizes and row counts; few
 * rows keep LibTorch's path (its bits); fp32 weights and the property's {@code false} are never packed; the packed
 * copy belongs to the layer's owner. Where oneDNN refuses bf16 (no AVX-512 BW/VL/DQ or AVX-NE-CONVERT, e.g. under
 * the AVX2 dispatch run's {@code ONEDNN_MAX_CPU_ISA=AVX2}) nothing is packed and the layers still work.
 */
class LinearPackedTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    @AfterEach
    void restore() {
        System.clearProperty(Linear.PACK_PROPERTY);
    }

    private static double rel(Tensor a, Tensor ref) {
        Tensor d = a.to(ScalarType.Double);
        Tensor r = ref.to(ScalarType.Double);
        return d.sub(r).norm().item_double() / r.norm().item_double();
    }

    @Test
    void packedProductsAreAsAccurateAsLibTorchsAtTheFlowsSizes() {
        long[][] shapes = {{256, 512}, {256, 1024}, {1024, 256}, {512, 256}, {512, 2048}, {64, 128}};
        int checked = 0;
        for (long[] s : shapes) {
            for (long rows : new long[] {16, 60, 544, 1003}) {
                try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
                    Linear l = new Linear(owner.track(RandomParams.normal(ScalarType.BFloat16, 0.05)), s[0], s[1], true);
                    assumeTrue(l.packed(), "this LibTorch build has no oneDNN linear weight reorder");
                    Tensor x = torch.randn(1, rows, s[0]).to(ScalarType.BFloat16);
                    Tensor got = l.forward(x);
                    Tensor lib = torch.linear(x, l.weight, new TensorOptional(l.bias));
                    Tensor ref = torch.linear(x.to(ScalarType.Double), l.weight.to(ScalarType.Double),
                            new TensorOptional(l.bias.to(ScalarType.Double)));
                    assertThat(got.sizes().vec().get()).containsExactly(1, rows, s[1]);
                    assertThat(got.scalar_type().value).isEqualTo(ScalarType.BFloat16.value);
                    double e = rel(got, ref);
                    double eLib = rel(lib, ref);
                    // bf16 output rounding is 2^-9 relative at most: both forms sit at about 1.7e-3
                    assertThat(e).as("%s x %d", java.util.Arrays.toString(s), rows).isLessThan(Math.max(3e-3,
                            1.2 * eLib));
                    assertThat(rel(got, lib)).isLessThan(4e-3);
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(24);
    }

    @Test
    void fewRowsFp32WeightsAndThePropertyKeepLibTorchsPath() {
        try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
            Linear l = new Linear(owner.track(RandomParams.normal(ScalarType.BFloat16, 0.05)), 256, 512, true);
            assumeTrue(l.packed(), "this LibTorch build has no oneDNN linear weight reorder");
            for (long rows : new long[] {1, 15}) {
                Tensor x = torch.randn(rows, 256).to(ScalarType.BFloat16);
                assertThat(torch.equal(l.forward(x), torch.linear(x, l.weight, new TensorOptional(l.bias)))).isTrue();
            }
            Linear f = new Linear(owner.track(RandomParams.normal(ScalarType.Float, 0.05)), 256, 512, true);
            assertThat(f.packed()).isFalse();
            Linear odd = new Linear(owner.track(RandomParams.normal(ScalarType.BFloat16, 0.05)), 250, 512, false);
            assertThat(odd.packed()).isFalse();
            System.setProperty(Linear.PACK_PROPERTY, "false");
            Linear off = new Linear(owner.track(RandomParams.normal(ScalarType.BFloat16, 0.05)), 256, 512, true);
            assertThat(off.packed()).isFalse();
        }
    }

    @Test
    void bf16LayersWorkWhetherOrNotOneDnnPacksHere() {
        try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
            Linear l = new Linear(owner.track(RandomParams.normal(ScalarType.BFloat16, 0.05)), 256, 512, true);
            Tensor x = torch.randn(1, 60, 256).to(ScalarType.BFloat16);
            Tensor ref = torch.linear(x.to(ScalarType.Double), l.weight.to(ScalarType.Double),
                    new TensorOptional(l.bias.to(ScalarType.Double)));
            assertThat(rel(l.forward(x), ref)).as("packed: %s", l.packed()).isLessThan(3e-3);
            System.out.println("bf16 linear weights packed by oneDNN here: " + l.packed());
        }
    }

    @Test
    void thePackedCopyBelongsToTheLayersOwner() {
        try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
            ParamSource src = owner.track(RandomParams.normal(ScalarType.BFloat16, 0.05));
            int before = owner.count();
            Linear l = new Linear(src, 256, 512, true);
            assumeTrue(l.packed(), "this LibTorch build has no oneDNN linear weight reorder");
            assertThat(owner.count()).isEqualTo(before + 3); // weight, bias, packed weight
        }
    }
}
