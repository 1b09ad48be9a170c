package dev.localai.tts.core.checkpoint;

import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.HugePages;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A view of a checkpoint under a key prefix, from which model modules take their weights.
 *
 * <p>Module constructors receive the view for their own prefix ({@code sd.sub("tfmr").sub("h.0")}) and call
 * {@link #take(String, long...)} with the key relative to it, which gives an owned, contiguous fp32 copy on the
 * target device and checks the shape, naming the full key on mismatch. Every view of one file shares the set of
 * consumed keys, so a loader can prove with {@link #unconsumedKeys()} that it used the whole file.
 */
public final class StateDict implements AutoCloseable {
    private final SafeTensors file;
    private final String prefix;
    private final Device device;
    private final ScalarType dtype;
    private final Set<String> consumed;
    private final boolean owner;

    /**
     * Whether CPU weights are read into their tensors ({@link SafeTensors#read}) rather than copied out of the file's
     * mapping: where LibTorch's tensors get huge pages ({@link HugePages#forTensors}). Measured on the 2-core EPYC
     * VM, a whole model's load (two threads, fresh processes by turns): with huge pages 2.5-3.3 s read against
     * 3.2-4.4 s copied; in 4 KiB pages 5.8-6.3 s read against 4.0-4.6 s copied, where the one reading thread faults
     * every page of the new tensors in, and LibTorch's copy faults them on both threads (docs/performance.md,
     * "Eighteenth round").
     */
    static final boolean READ = HugePages.forTensors();

    private StateDict(SafeTensors file, String prefix, Device device, ScalarType dtype, Set<String> consumed,
            boolean owner) {
        this.file = file;
        this.prefix = prefix;
        this.device = device;
        this.dtype = dtype;
        this.consumed = consumed;
        this.owner = owner;
    }

    /** Opens a safetensors file; weights are taken as fp32 on {@code device}. Closing this view closes the file. */
    public static StateDict open(Path path, Device device) {
        return of(SafeTensors.open(path), device, ScalarType.Float, true);
    }

    /** A root view over an already open file; closing the view does not close the file. */
    public static StateDict of(SafeTensors file, Device device) {
        return of(file, device, ScalarType.Float, false);
    }

    /** A root view whose floating-point weights are converted to {@code dtype} (fp32, bf16 or fp16). */
    public static StateDict of(SafeTensors file, Device device, ScalarType dtype, boolean closeFile) {
        return new StateDict(file, "", device, dtype, ConcurrentHashMap.newKeySet(), closeFile);
    }

    /** The view of a child module: {@code sub("h.0")} maps {@code "ln_1.weight"} to {@code prefix + "h.0.ln_1.weight"}. */
    public StateDict sub(String name) {
        return new StateDict(file, prefix + name + ".", device, dtype, consumed, false);
    }

    public String prefix() {
        return prefix;
    }

    public Device device() {
        return device;
    }

    /** The type floating-point weights are taken in. */
    public ScalarType dtype() {
        return dtype;
    }

    public SafeTensors file() {
        return file;
    }

    /** Whether the file holds {@code key} under this prefix. */
    public boolean has(String key) {
        return file.contains(prefix + key);
    }

    /** The stored shape of {@code key}. */
    public long[] shape(String key) {
        return file.info(prefix + key).shape();
    }

    /**
     * Loads {@code key} as an owned contiguous tensor on the target device (floating point converted to the view's
     * dtype, integers kept), checking its shape when {@code expected} is given; -1 in {@code expected} matches any
     * size.
     */
    public Tensor take(String key, long... expected) {
        return take(READ, key, expected);
    }

    /** {@link #take(String, long...)} read ({@link SafeTensors#read}) or copied out of the mapping, as asked. */
    Tensor take(boolean read, String key, long... expected) {
        String full = prefix + key;
        TensorInfo info = file.info(full);
        long[] shape = info.shape();
        if (expected.length > 0 && !matches(shape, expected)) {
            throw new CheckpointException("tensor '" + full + "' in " + file.path() + " has shape "
                    + Arrays.toString(shape) + " but the model configuration expects " + Arrays.toString(expected));
        }
        ScalarType target = isFloat(info.dtype()) ? dtype : info.dtype().scalarType();
        if (!device.isCuda() && read) {
            Tensor raw = file.read(full);
            if (raw.scalar_type().value == target.value) {
                consumed.add(full);
                return raw;
            }
            try {
                Tensor t = raw.to(target);
                consumed.add(full);
                return t;
            } finally {
                raw.close();
            }
        }
        try (Tensor view = file.tensor(full);
             org.bytedeco.pytorch.Device dev = device.torchDevice()) {
            // copy=true: the result never aliases the read-only mapping
            Tensor t = view.to(dev, target, false, true, null);
            consumed.add(full);
            return t;
        }
    }

    /** Marks {@code key} as deliberately unused (for example a tensor upstream loads and then deletes). */
    public void skip(String key) {
        file.info(prefix + key);
        consumed.add(prefix + key);
    }

    /** Marks every key under this prefix as deliberately unused. */
    public void skipAll() {
        for (String k : file.keys()) {
            if (k.startsWith(prefix)) {
                consumed.add(k);
            }
        }
    }

    /** Keys under this view's prefix that nothing has taken or skipped yet (sorted). */
    public Set<String> unconsumedKeys() {
        Set<String> left = new TreeSet<>();
        for (String k : file.keys()) {
            if (k.startsWith(prefix) && !consumed.contains(k)) {
                left.add(k);
            }
        }
        return Collections.unmodifiableSet(left);
    }

    /** Throws naming the leftover keys unless every key under this prefix was consumed. */
    public void requireAllConsumed() {
        Set<String> left = unconsumedKeys();
        if (!left.isEmpty()) {
            throw new CheckpointException(file.path() + " has " + left.size() + " tensors the model does not use: "
                    + (left.size() > 8 ? String.join(", ", left.stream().limit(8).toList()) + ", ..." : String.join(", ", left)));
        }
    }

    private static boolean isFloat(DType d) {
        return d == DType.F32 || d == DType.F16 || d == DType.BF16 || d == DType.F64;
    }

    private static boolean matches(long[] actual, long[] expected) {
        if (actual.length != expected.length) {
            return false;
        }
        for (int i = 0; i < actual.length; i++) {
            if (expected[i] != -1 && expected[i] != actual[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        if (owner) {
            file.close();
        }
    }
}
