package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.HeapPoison;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Linear}'s oneDNN kernel for fp32 products: the same sums as a double-precision reference on a heap poisoned
 * with NaN, +Inf and 1e30 (issue 12's failure mode), at the S3Gen flow's and the voice encoders' sizes; and the
 * products that do not qualify (few rows, sizes not multiples of 16, bf16) take LibTorch's own kernel, bit for bit.
 */
class LinearOnednnTest {
    @BeforeAll
    static void load() {
        Torch.init(2);
    }

    @AfterEach
    void off() {
        Linear.useOnednnForFp32(false);
    }

    /** (rows, in, out): the flow's attention, feed-forward and projections over prompt-length sequences. */
    private static final long[][] SHAPES = {{16, 256, 256}, {17, 256, 512}, {300, 256, 1024}, {544, 1024, 256},
        {544, 512, 80}, {250, 512, 512}, {33, 80, 512}, {1000, 256, 2048}};

    @Test
    void onDirtyHeapsTheProductsMatchADoubleReference() {
        for (float poison : HeapPoison.VALUES) {
            for (long[] s : SHAPES) {
                for (boolean bias : new boolean[] {true, false}) {
                    try (PointerScope scope = new PointerScope()) {
                        torch.manual_seed(s[0] * 31 + s[1] + s[2]);
                        Tensor x = torch.randn(1, s[0], s[1]);
                        Tensor w = torch.randn(s[2], s[1]).mul_(new Scalar(0.05));
                        Tensor b = bias ? torch.randn(s[2]) : null;
                        HeapPoison.poison(poison, x.numel() * 4, w.numel() * 4, s[0] * s[2] * 4);
                        Tensor y = Linear.linear(x, w, b, true);
                        Tensor ref = torch.matmul(x.to(torch.ScalarType.Double), w.to(torch.ScalarType.Double).t());
                        if (b != null) {
                            ref = ref.add(b.to(torch.ScalarType.Double));
                        }
                        assertThat(y.sizes().vec().get()).containsExactly(1, s[0], s[2]);
                        assertThat(torch.isfinite(y).all().item_bool()).as("finite, poison %s", poison).isTrue();
                        double err = y.to(torch.ScalarType.Double).sub(ref).abs().max().item_double()
                                / ref.abs().max().item_double();
                        assertThat(err).as("shape %s, poison %s", java.util.Arrays.toString(s), poison)
                                .isLessThan(1e-5);
                    }
                }
            }
        }
    }

    /**
     * The flow's products and the pointwise convolutions the channels-last gateway now runs as products (CAMPPlus's
     * 1024 to 512 among them, {@code Conv}), on oneDNN in fp32 and in bf16, at thread counts a user's machine may have:
     * finite, and the same to rounding as at two threads. oneDNN chooses its blocking by shape and thread count, and
     * one such choice in its convolutions divided by zero at two threads ({@code ConvChannelsLastTest}).
     */
    @Test
    void theProductsRunAtOneToSixteenThreads() {
        long[][] shapes = {SHAPES[2], SHAPES[3], SHAPES[4], SHAPES[7], {500, 1024, 512}, {500, 512, 1024},
            {500, 256, 1024}, {500, 1024, 2048}, {500, 512, 2048}};
        int before = torch.get_num_threads();
        try {
            for (long[] s : shapes) {
                for (torch.ScalarType type : new torch.ScalarType[] {torch.ScalarType.Float,
                    torch.ScalarType.BFloat16}) {
                    try (PointerScope scope = new PointerScope()) {
                        torch.manual_seed(s[0] + s[1] * 7 + s[2]);
                        Tensor x = torch.randn(1, s[0], s[1]).to(type);
                        Tensor w = torch.randn(s[2], s[1]).mul_(new Scalar(1 / Math.sqrt(s[1]))).to(type);
                        Tensor b = torch.randn(s[2]).to(type);
                        torch.set_num_threads(2);
                        Tensor ref = Linear.linear(x, w, b, true).to(torch.ScalarType.Float);
                        double tol = (type == torch.ScalarType.Float ? 1e-5 : 2e-2)
                                * (1 + ref.abs().max().item_double());
                        for (int n : new int[] {1, 3, 4, 8, 16}) {
                            torch.set_num_threads(n);
                            Tensor y = Linear.linear(x, w, b, true).to(torch.ScalarType.Float);
                            String what = java.util.Arrays.toString(s) + " " + type + " at " + n + " threads";
                            assertThat(torch.isfinite(y).all().item_bool()).as(what).isTrue();
                            assertThat(y.sub(ref).abs().max().item_double()).as(what).isLessThanOrEqualTo(tol);
                        }
                    }
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void productsThatDoNotQualifyTakeLibTorchsKernelBitForBit() {
        long[][] other = {{15, 256, 256}, {1, 1024, 1024}, {64, 18, 256}, {64, 256, 1}, {300, 80, 9}};
        for (long[] s : other) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x = torch.randn(s[0], s[1]);
                Tensor w = torch.randn(s[2], s[1]);
                Tensor b = torch.randn(s[2]);
                long calls = Linear.ONEDNN_CALLS.get();
                Tensor mine = Linear.linear(x, w, b, true);
                assertThat(Linear.ONEDNN_CALLS.get()).as("not sent to oneDNN").isEqualTo(calls);
                Tensor lib = torch.linear(x, w, new TensorOptional(b));
                assertThat(torch.equal(mine, lib)).as(java.util.Arrays.toString(s)).isTrue();
            }
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(64, 256).to(torch.ScalarType.BFloat16);
            Tensor w = torch.randn(256, 256).to(torch.ScalarType.BFloat16);
            assertThat(torch.equal(Linear.linear(x, w, null, true), torch.linear(x, w))).isTrue();
        }
    }

    @Test
    void theProcessWideSwitchRoutesEveryLinear() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(64, 256);
            Tensor w = torch.randn(512, 256).mul_(new Scalar(0.05));
            Tensor onednn = Linear.linear(x, w, null, true);
            long calls = Linear.ONEDNN_CALLS.get();
            Linear.linear(x, w, null);
            assertThat(Linear.ONEDNN_CALLS.get()).as("off by default").isEqualTo(calls);
            Linear.useOnednnForFp32(true);
            assertThat(Linear.onednnForFp32()).isTrue();
            assertThat(torch.equal(Linear.linear(x, w, null), onednn)).as("on").isTrue();
            assertThat(Linear.ONEDNN_CALLS.get()).isEqualTo(calls + 1);
            Linear.useOnednnForFp32(false);
            Linear.linear(x, w, null);
            assertThat(Linear.ONEDNN_CALLS.get()).as("off again").isEqualTo(calls + 1);
        }
    }
}
