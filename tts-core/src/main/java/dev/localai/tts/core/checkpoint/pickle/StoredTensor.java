package dev.localai.tts.core.checkpoint.pickle;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A tensor as torch.save stores it: a view (shape, stride, element offset) over a little-endian storage. Plain Java
 * (no native memory); {@link #toTensor()} makes an owned contiguous LibTorch tensor, {@link #fromTensor(Tensor)} the
 * reverse. Several tensors may share one storage.
 */
public final class StoredTensor {
    private final TorchDType dtype;
    private final long[] shape;
    private final long[] stride;
    private final long offset;
    private final ByteBuffer storage;

    public StoredTensor(TorchDType dtype, long[] shape, long[] stride, long offset, ByteBuffer storage) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.stride = stride.clone();
        this.offset = offset;
        this.storage = storage.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (shape.length != stride.length) {
            throw new TorchPickleException("tensor shape " + Arrays.toString(shape) + " and stride "
                    + Arrays.toString(stride) + " differ in rank");
        }
        long maxIndex = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || stride[i] < 0) {
                throw new TorchPickleException("negative size or stride in " + Arrays.toString(shape));
            }
            if (shape[i] == 0) {
                maxIndex = -1;
                break;
            }
            maxIndex += (shape[i] - 1) * stride[i];
        }
        long elements = this.storage.capacity() / dtype.elementSize();
        if (maxIndex >= elements) {
            throw new TorchPickleException("tensor view " + Arrays.toString(shape) + " stride " + Arrays.toString(stride)
                    + " offset " + offset + " reaches beyond its storage of " + elements + " elements");
        }
    }

    /** A contiguous tensor over a fresh storage holding exactly {@code data} (little-endian, row-major). */
    public static StoredTensor contiguous(TorchDType dtype, long[] shape, ByteBuffer data) {
        return new StoredTensor(dtype, shape, contiguousStrides(shape), 0, data);
    }

    public static StoredTensor ofFloats(long[] shape, float[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return contiguous(TorchDType.FLOAT, shape, b);
    }

    public static StoredTensor ofLongs(long[] shape, long[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return contiguous(TorchDType.LONG, shape, b);
    }

    private static void checkCount(long[] shape, int n) {
        if (numel(shape) != n) {
            throw new IllegalArgumentException(n + " values for shape " + Arrays.toString(shape));
        }
    }

    public static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public TorchDType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long[] stride() {
        return stride.clone();
    }

    public long storageOffset() {
        return offset;
    }

    public long numel() {
        return numel(shape);
    }

    /** The whole underlying storage (read-only view). */
    public ByteBuffer storage() {
        return storage.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    public boolean isContiguous() {
        return Arrays.equals(stride, contiguousStrides(shape)) || numel() <= 1;
    }

    /** The elements in row-major order as little-endian bytes (a copy). */
    public byte[] contiguousBytes() {
        int es = dtype.elementSize();
        long n = numel();
        if (n * es > Integer.MAX_VALUE) {
            throw new TorchPickleException("tensor too large for a Java array: " + Arrays.toString(shape));
        }
        byte[] out = new byte[(int) (n * es)];
        if (n == 0) {
            return out;
        }
        if (isContiguous()) {
            storage.get((int) (offset * es), out, 0, out.length);
            return out;
        }
        long[] idx = new long[shape.length];
        for (long k = 0; k < n; k++) {
            long src = offset;
            for (int d = 0; d < shape.length; d++) {
                src += idx[d] * stride[d];
            }
            storage.get((int) (src * es), out, (int) (k * es), es);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    /** Row-major float values; the tensor must be FLOAT. */
    public float[] toFloatArray() {
        requireType(TorchDType.FLOAT);
        float[] f = new float[(int) numel()];
        ByteBuffer.wrap(contiguousBytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    /** Row-major long values; the tensor must be LONG. */
    public long[] toLongArray() {
        requireType(TorchDType.LONG);
        long[] l = new long[(int) numel()];
        ByteBuffer.wrap(contiguousBytes()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(l);
        return l;
    }

    private void requireType(TorchDType t) {
        if (dtype != t) {
            throw new TorchPickleException("tensor is " + dtype + ", not " + t);
        }
    }

    /** An owned, contiguous CPU LibTorch tensor holding a copy of the values. */
    public Tensor toTensor() {
        byte[] bytes = contiguousBytes();
        Tensor t;
        try (TensorOptions opts = new TensorOptions(dtype.scalarType());
             MemoryFormatOptional mf = new MemoryFormatOptional()) {
            t = torch.empty(shape, opts, mf);
        }
        if (bytes.length > 0) {
            try (BytePointer dst = new BytePointer(t.data_ptr())) {
                dst.capacity(bytes.length).put(bytes);
            }
        }
        return t;
    }

    /** A copy of a LibTorch tensor's values (moved to CPU and made contiguous first). */
    public static StoredTensor fromTensor(Tensor tensor) {
        TorchDType dt = TorchDType.of(tensor.scalar_type());
        long[] shape = new long[(int) tensor.dim()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = tensor.size(i);
        }
        try (Tensor cpu = tensor.is_cpu() ? tensor.contiguous() : tensor.cpu().contiguous()) {
            int n = Math.toIntExact(cpu.nbytes());
            byte[] bytes = new byte[n];
            if (n > 0) {
                try (BytePointer src = new BytePointer(cpu.data_ptr())) {
                    src.capacity(n).get(bytes);
                }
            }
            return contiguous(dt, shape, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
        }
    }

    @Override
    public String toString() {
        return "StoredTensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
