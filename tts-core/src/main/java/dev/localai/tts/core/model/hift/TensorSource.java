package dev.localai.tts.core.model.hift;

import org.bytedeco.pytorch.Tensor;

/**
 * Where the vocoder's modules take their parameters from: a key (relative to {@code mel2wav.}) and the expected
 * shape give an fp32 tensor on the target device. Implemented over a {@code StateDict}.
 */
@FunctionalInterface
public interface TensorSource {
    Tensor take(String key, long... shape);

    /** A view of this source with {@code prefix + "."} prepended to every key. */
    default TensorSource sub(String prefix) {
        TensorSource parent = this;
        return (key, shape) -> parent.take(prefix + "." + key, shape);
    }
}
