package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RowConv1d} (a convolution over rows as one product) against {@link Conv1d} (the same weights through
 * {@link Conv}, over (B, C, T)): kernel sizes, paddings, batch, lengths down to one frame, channel counts that are
 * and are not multiples of 16 (the bf16 product packs only the former), fp32 and bf16.
 */
class RowConv1dTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    /** A source of {@code seed}'s random weights in {@code type}. */
    private static ParamSource params(long seed, ScalarType type) {
        RandomParams r = new RandomParams(seed);
        return type.value == ScalarType.Float.value ? r : inType(r, type);
    }

    private static ParamSource inType(ParamSource source, ScalarType type) {
        return new ForwardingParamSource(source) {
            @Override
            public ParamSource sub(String name) {
                return inType(base.sub(name), type);
            }

            @Override
            public Tensor take(String key, long... shape) {
                Tensor f = base.take(key, shape);
                Tensor t = f.to(type).retainReference();
                f.releaseReference();
                return t;
            }

            @Override
            public ScalarType dtype() {
                return type;
            }
        };
    }

    @Test
    void equalsTheConvolutionOverChannels() {
        long[][] shapes = { // in, out, k, padLeft, padRight
            {256, 256, 3, 2, 0}, {320, 256, 3, 2, 0}, {256, 80, 1, 0, 0}, {13, 7, 3, 2, 0}, {16, 32, 5, 2, 2},
            {24, 16, 3, 0, 0}, {8, 8, 4, 1, 2}};
        for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
            for (long[] s : shapes) {
                for (int b : new int[] {1, 2}) {
                    for (int t : new int[] {1, 7, 64, 544}) {
                        if (t + s[3] + s[4] < s[2]) {
                            continue;
                        }
                        try (Weights w = new Weights(); PointerScope scope = new PointerScope()) {
                            long seed = s[0] * 31 + s[2] * 7 + t;
                            RowConv1d rows = RowConv1d.padded(w.track(params(seed, type)), s[0], s[1], s[2], s[3],
                                    s[4]);
                            Conv1d conv = Conv1d.padded(w.track(params(seed, type)), s[0], s[1], s[2], s[3], s[4]);
                            Generator g = torch.createCPUGenerator(seed);
                            Tensor x = torch.randn(new long[] {b, s[0], t}, new GeneratorOptional(g),
                                    new TensorOptions(ScalarType.Float)).to(type);
                            Tensor want = conv.forward(x).transpose(1, 2).to(ScalarType.Float);
                            Tensor got = rows.forward(x.transpose(1, 2).contiguous());
                            assertThat(got.scalar_type().value).isEqualTo(type.value);
                            assertThat(got.sizes().vec().get()).containsExactly(b, t + s[3] + s[4] - s[2] + 1, s[1]);
                            double diff = got.to(ScalarType.Float).sub(want).abs().max().item_double();
                            double scale = want.abs().max().item_double();
                            // fp32: accumulation order only; bf16: both round their outputs to 8 bits
                            double bound = type.value == ScalarType.Float.value ? 1e-5 * scale : scale / 64;
                            assertThat(diff).as("%s %s b=%d t=%d", type, java.util.Arrays.toString(s), b, t)
                                    .isLessThanOrEqualTo(bound);
                        }
                    }
                }
            }
        }
    }

    @Test
    void refusesInputsOfAnotherWidthOrTooShort() {
        try (Weights w = new Weights(); PointerScope scope = new PointerScope()) {
            RowConv1d conv = RowConv1d.padded(w.track(new RandomParams(1)), 8, 8, 3, 0, 0);
            assertThatThrownBy(() -> conv.forward(torch.zeros(1, 5, 9))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("(B, T, 8)");
            assertThatThrownBy(() -> conv.forward(torch.zeros(1, 2, 8))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("fewer than the kernel");
        }
    }
}
