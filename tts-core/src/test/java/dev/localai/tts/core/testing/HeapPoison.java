package dev.localai.tts.core.testing;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Fills the native heap with a value and gives the memory back, so that the next allocations of those sizes see
 * that value where nobody writes: how a kernel that reads uninitialised memory is made to show it on any machine
 * (glibc reuses freed chunks of the same size class first). Sizes run from 64 B to 512 KiB, in steps of an eighth
 * of an octave, plus any sizes the caller names.
 */
public final class HeapPoison {
    /** The poisons a numerics test should survive: NaN, +Inf, and a huge finite value. */
    public static final float[] VALUES = {Float.NaN, Float.POSITIVE_INFINITY, 1e30f};

    private HeapPoison() {}

    /** Poisons the heap with {@code value} in blocks of many sizes (and {@code extraBytes}), then frees them. */
    public static void poison(float value, long... extraBytes) {
        List<Tensor> blocks = new ArrayList<>();
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        Scalar v = new Scalar(value);
        try {
            for (double bytes = 64; bytes <= 512 * 1024; bytes *= Math.pow(2, 1.0 / 8)) {
                blocks.add(torch.full(new long[] {Math.max(1, (long) bytes / 4)}, v, f32));
            }
            for (long b : extraBytes) {
                for (long d = -256; d <= 256; d += 64) {
                    blocks.add(torch.full(new long[] {Math.max(1, (b + d) / 4)}, v, f32));
                }
            }
        } finally {
            for (int i = blocks.size() - 1; i >= 0; i--) {
                blocks.get(i).close();
            }
            v.close();
            f32.close();
        }
    }

    /**
     * The value named by the system property {@code tts.test.poison} ({@code nan}, {@code inf} or a number), or
     * null when the property is absent.
     */
    public static Float configured() {
        String p = System.getProperty("tts.test.poison", "").trim().toLowerCase(java.util.Locale.ROOT);
        return switch (p) {
            case "" -> null;
            case "nan" -> Float.NaN;
            case "inf" -> Float.POSITIVE_INFINITY;
            default -> Float.parseFloat(p);
        };
    }
}
