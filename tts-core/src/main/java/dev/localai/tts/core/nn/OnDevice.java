package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;

/**
 * Where a tensor made on the CPU (a mask, a position table, seeded noise, a time grid) meets a model that may run on a
 * GPU: it moves to the device of the tensor it is used with. On the CPU nothing is copied, so CPU numerics and
 * allocations stay as they were. The result is a new reference in the caller's scope, like any LibTorch result.
 */
public final class OnDevice {
    private OnDevice() {}

    /** {@code t} on {@code like}'s device, in {@code t}'s dtype ({@code t} itself where both are on the CPU). */
    public static Tensor of(Tensor t, Tensor like) {
        if (!t.is_cuda() && !like.is_cuda()) {
            return t;
        }
        try (org.bytedeco.pytorch.Device d = like.device()) {
            return t.to(d, t.scalar_type());
        }
    }
}
