package dev.localai.tts.core.nn;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One convolution call as {@link Conv} saw it: input and weight shapes, stride, padding, dilation, groups, dtype.
 * For {@link Kind#CONV_TRANSPOSE1D} the stride list is {@code [stride, outputPadding]}.
 */
public record ConvShape(Kind kind, List<Long> input, List<Long> weight, List<Long> stride, List<Long> padding,
                        List<Long> dilation, long groups, String dtype) {
    /** The three convolution functions of {@link Conv}. */
    public enum Kind { CONV1D, CONV_TRANSPOSE1D, CONV2D }

    public ConvShape {
        input = List.copyOf(input);
        weight = List.copyOf(weight);
        stride = List.copyOf(stride);
        padding = List.copyOf(padding);
        dilation = List.copyOf(dilation);
    }

    static ConvShape of(Kind kind, long[] input, long[] weight, long[] stride, long[] padding, long[] dilation,
                        long groups, ScalarType dtype) {
        return new ConvShape(kind, boxed(input), boxed(weight), boxed(stride), boxed(padding), boxed(dilation),
                groups, dtype.toString());
    }

    private static List<Long> boxed(long[] a) {
        return Arrays.stream(a).boxed().toList();
    }

    /** Input channels that each output sums over (the dimension oneDNN blocks). */
    public long inputChannelsPerGroup() {
        return kind == Kind.CONV_TRANSPOSE1D ? weight.get(0) / groups : weight.get(1);
    }
}
