package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway's channels-last layout: the same convolutions as LibTorch's default layout (to rounding), outputs channels-last, a channels-last input taken without a copy, element-wise
 * chains (HiFT's Snake and residual adds) keeping the layout, and nothing changed while the switch is off.
 */
class ConvChannelsLastTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    @AfterEach
    void off() {
        Conv.useChannelsLast(false);
    }

    private static Tensor conv(Tensor x, Tensor w, Tensor b, long pad, long dil) {
        return Conv.conv1d(x, w, b, 1, pad, dil, 1);
    }

    @Test
    void convolutionsAgreeWithTheDefaultLayoutAndComeOutChannelsLast() {
        for (long[] shape : new long[][] {{64, 64, 7, 3, 900}, {128, 128, 11, 5, 300}, {80, 512, 7, 1, 120}}) {
            try (PointerScope scope = new PointerScope()) {
                torch.manual_seed(shape[0] + shape[2]);
                Tensor x = torch.randn(1, shape[0], shape[4]);
                Tensor w = torch.randn(shape[1], shape[0], shape[2]).mul_(new Scalar(1 / Math.sqrt(shape[0] * shape[2])));
                Tensor b = torch.randn(shape[1]);
                long pad = (shape[2] * shape[3] - shape[3]) / 2;
                Tensor ref = conv(x, w, b, pad, shape[3]);
                assertThat(Conv.isChannelsLast(ref)).isFalse();
                Conv.useChannelsLast(true);
                Tensor y = conv(x, w, b, pad, shape[3]);
                Conv.useChannelsLast(false);
                assertThat(Conv.isChannelsLast(y)).isTrue();
                assertThat(y.sizes().vec().get()).containsExactly(ref.sizes().vec().get());
                double scale = ref.abs().max().item_double();
                assertThat(Golden.maxAbsDiff(y, ref)).isLessThan(1e-5 * (1 + scale));
            }
        }
    }

    /**
     * Pointwise convolutions of the five channel pairs for which oneDNN's channels-last 1x1 kernel divides by zero
     * while it chooses its blocking (on every CPU without AMX, at two or more threads: SIGFPE, the process gone; the
     * 1024 to 512 one is CAMPPlus's transit layer, run whenever a voice is cloned from a clip), at two threads, in
     * fp32 and bf16, the input in either layout: the gateway's result agrees with the default layout's and comes out
     * channels-last. Before the gateway ran them as linear layers this test killed its JVM on such a CPU.
     */
    @Test
    void pointwiseConvolutionsOfOneDnnsHazardousChannelPairsRunAtTwoThreads() {
        int before = torch.get_num_threads();
        torch.set_num_threads(Math.max(2, before));
        try {
            for (long[] pair : new long[][] {{1024, 512}, {1024, 2048}, {256, 1024}, {512, 1024}, {512, 2048}}) {
                for (torch.ScalarType type : new torch.ScalarType[] {torch.ScalarType.Float,
                    torch.ScalarType.BFloat16}) {
                    for (boolean channelsLastInput : new boolean[] {false, true}) {
                        try (PointerScope scope = new PointerScope()) {
                            torch.manual_seed(pair[0] + pair[1]);
                            Tensor x = torch.randn(1, pair[0], 300).to(type);
                            Tensor w = torch.randn(pair[1], pair[0], 1).mul_(new Scalar(1 / Math.sqrt(pair[0])))
                                    .to(type);
                            Tensor b = torch.randn(pair[1]).to(type);
                            Tensor ref = conv(x, w, b, 0, 1).to(torch.ScalarType.Float);
                            Conv.useChannelsLast(true);
                            Tensor in = channelsLastInput ? Conv.channelsLast4d(x).squeeze(2) : x;
                            Tensor y = conv(in, w, b, 0, 1);
                            Conv.useChannelsLast(false);
                            String what = pair[0] + " to " + pair[1] + " " + type + (channelsLastInput
                                    ? ", channels-last input" : "");
                            assertThat(Conv.isChannelsLast(y)).as(what).isTrue();
                            assertThat(y.scalar_type().value).as(what).isEqualTo(type.value);
                            assertThat(y.sizes().vec().get()).as(what).containsExactly(1, pair[1], 300);
                            double scale = ref.abs().max().item_double();
                            double tol = type == torch.ScalarType.Float ? 1e-5 : 2e-2;
                            assertThat(Golden.maxAbsDiff(y.to(torch.ScalarType.Float), ref)).as(what)
                                    .isLessThan(tol * (1 + scale));
                        }
                    }
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void transposedConvolutionsAgreeToo() {
        // HiFT's three upsampling shapes, on short inputs
        for (long[] u : new long[][] {{512, 256, 16, 8, 40}, {256, 128, 11, 5, 64}, {128, 64, 7, 3, 200}}) {
            try (PointerScope scope = new PointerScope()) {
                torch.manual_seed(u[0]);
                Tensor x = torch.randn(1, u[0], u[4]);
                Tensor w = torch.randn(u[0], u[1], u[2]).mul_(new Scalar(0.05));
                Tensor b = torch.randn(u[1]);
                long pad = (u[2] - u[3]) / 2;
                Tensor ref = Conv.convTranspose1d(x, w, b, u[3], pad, 0, 1, 1);
                Conv.useChannelsLast(true);
                Tensor y = Conv.convTranspose1d(x, w, b, u[3], pad, 0, 1, 1);
                Conv.useChannelsLast(false);
                assertThat(Conv.isChannelsLast(y)).isTrue();
                double scale = ref.abs().max().item_double();
                assertThat(Golden.maxAbsDiff(y, ref)).as("ups %d->%d", u[0], u[1]).isLessThan(1e-5 * (1 + scale));
            }
        }
    }

    @Test
    void aChannelsLastInputIsTakenWithoutACopyAndElementWiseChainsKeepTheLayout() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Conv.channelsLast4d(torch.randn(1, 64, 500)).squeeze(2);
            assertThat(Conv.isChannelsLast(x)).isTrue();
            assertThat(Conv.channelsLast4d(x).data_ptr().address()).isEqualTo(x.data_ptr().address());
            Tensor alpha = torch.rand(64, 1).add_(new Scalar(0.5));
            // Snake as HiFT computes it, then a residual add
            Tensor s = x.mul(alpha);
            s.sin_();
            s.mul_(s);
            s.mul_(alpha.reciprocal());
            s = s.add_(x);
            assertThat(Conv.isChannelsLast(s)).isTrue();
            assertThat(Conv.isChannelsLast(torch.leaky_relu(s, new Scalar(0.1)))).isTrue();
            assertThat(Conv.isChannelsLast(s.add(x).div(new Scalar(3.0)))).isTrue();
        }
    }

    @Test
    void offByDefaultAndBf16TooWhenOn() {
        assertThat(Conv.channelsLast()).isFalse();
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor x = torch.randn(1, 256, 300).to(torch.ScalarType.BFloat16);
            Tensor w = torch.randn(256, 256, 3).mul_(new Scalar(0.03)).to(torch.ScalarType.BFloat16);
            Tensor b = torch.randn(256).to(torch.ScalarType.BFloat16);
            Tensor ref = conv(x, w, b, 1, 1);
            Conv.useChannelsLast(true);
            Tensor y = conv(x, w, b, 1, 1);
            assertThat(Conv.isChannelsLast(y)).isTrue();
            assertThat(Golden.maxAbsDiff(y.to(torch.ScalarType.Float), ref.to(torch.ScalarType.Float)))
                    .isLessThan(2e-2 * (1 + ref.abs().max().to(torch.ScalarType.Float).item_double()));
        }
    }
}
