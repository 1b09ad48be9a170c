package dev.localai.tts.core.voice;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Copies between small LibTorch CPU tensors and Java arrays (conditionals, fixtures, front-end features). */
public final class TensorArrays {

    private TensorArrays() {
    }

    /** All elements of {@code t} (any device, any float dtype), row-major, as float32. */
    public static float[] floats(Tensor t) {
        try (Tensor c = t.to(new org.bytedeco.pytorch.Device("cpu"), ScalarType.Float, false, true, null)
                .contiguous()) {
            long n = c.numel();
            float[] out = new float[Math.toIntExact(n)];
            if (n > 0) {
                try (FloatPointer p = c.data_ptr_float()) {
                    p.get(out);
                }
            }
            return out;
        }
    }

    /** All elements of {@code t} (any integer dtype), row-major, as int64. */
    public static long[] longs(Tensor t) {
        try (Tensor c = t.to(new org.bytedeco.pytorch.Device("cpu"), ScalarType.Long, false, true, null)
                .contiguous()) {
            long n = c.numel();
            long[] out = new long[Math.toIntExact(n)];
            if (n > 0) {
                try (LongPointer p = c.data_ptr_long()) {
                    p.get(out);
                }
            }
            return out;
        }
    }

    /** An owned float32 CPU tensor holding a copy of {@code data} with the given shape. */
    public static Tensor tensor(float[] data, long... shape) {
        check(data.length, shape);
        try (FloatPointer p = new FloatPointer(data);
             TensorOptions o = new TensorOptions(ScalarType.Float);
             Tensor view = torch.from_blob(p, shape, o)) {
            return view.clone();
        }
    }

    /** An owned int64 CPU tensor holding a copy of {@code data} with the given shape. */
    public static Tensor tensor(long[] data, long... shape) {
        check(data.length, shape);
        try (LongPointer p = new LongPointer(data);
             TensorOptions o = new TensorOptions(ScalarType.Long);
             Tensor view = torch.from_blob(p, shape, o)) {
            return view.clone();
        }
    }

    private static void check(int n, long[] shape) {
        long prod = 1;
        for (long d : shape) {
            prod *= d;
        }
        if (prod != n) {
            throw new IllegalArgumentException("shape does not match " + n + " elements");
        }
    }
}
