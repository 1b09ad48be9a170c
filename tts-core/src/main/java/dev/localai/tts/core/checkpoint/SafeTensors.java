package dev.localai.tts.core.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A memory-mapped, validated safetensors file.
 *
 * <p>The header is checked strictly when the file is opened: JSON syntax, known dtypes, shapes, offsets that lie
 * inside the file, byte sizes that match the shapes, and a data section covered exactly once (no holes, no
 * overlaps, no trailing bytes). Any violation gives a {@link CheckpointException} naming the file and the key.
 *
 * <p>{@link #tensor(String)} returns a zero-copy, read-only LibTorch view over the mapping: it must not be written to
 * and must not be used after {@link #close()}. Loaders that keep weights copy them (see {@link StateDict}).
 * Instances are safe for concurrent reads.
 */
public final class SafeTensors implements AutoCloseable {
    private static final long MAX_HEADER = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> infos;
    private final Map<String, String> metadata;
    private final List<MappedByteBuffer> mappings = new ArrayList<>();
    private volatile boolean closed;

    private SafeTensors(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> infos,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.infos = infos;
        this.metadata = metadata;
    }

    /** Opens and validates a safetensors file. */
    public static SafeTensors open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint file not found: " + path);
        } catch (IOException e) {
            throw new CheckpointException("cannot open checkpoint file " + path + ": " + e.getMessage(), e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException | IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the parse error is what matters
            }
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            throw new CheckpointException("cannot read checkpoint file " + path + ": " + e.getMessage(), e);
        }
    }

    private static SafeTensors parse(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw corrupt(path, "file is " + size + " bytes long, too short for a safetensors header (truncated?)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen <= 0 || headerLen > MAX_HEADER) {
            throw corrupt(path, "header length " + headerLen + " is not plausible (not a safetensors file?)");
        }
        if (8 + headerLen > size) {
            throw corrupt(path, "header needs " + headerLen + " bytes but the file has only " + (size - 8)
                    + " after the length field (truncated)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        hb.flip();
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(path, "header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw corrupt(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw corrupt(path, "header is not a JSON object");
        }
        long dataSize = size - 8 - headerLen;
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (key.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw corrupt(path, "__metadata__ must be an object of strings");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext();) {
                    Map.Entry<String, JsonNode> me = m.next();
                    if (!me.getValue().isTextual()) {
                        throw corrupt(path, "__metadata__." + me.getKey() + " must be a string");
                    }
                    meta.put(me.getKey(), me.getValue().asText());
                }
                continue;
            }
            infos.put(key, entry(path, key, v, dataSize));
        }
        checkCoverage(path, infos, dataSize);
        return new SafeTensors(path, ch, 8 + headerLen, Collections.unmodifiableMap(infos),
                Collections.unmodifiableMap(meta));
    }

    private static TensorInfo entry(Path path, String key, JsonNode v, long dataSize) {
        if (!v.isObject()) {
            throw corrupt(path, "entry '" + key + "' is not an object");
        }
        JsonNode dt = v.get("dtype");
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) {
            throw corrupt(path, "tensor '" + key + "' has no dtype");
        }
        DType dtype = DType.ofCode(dt.asText());
        if (dtype == null) {
            throw corrupt(path, "tensor '" + key + "' has unsupported dtype " + dt.asText());
        }
        if (sh == null || !sh.isArray()) {
            throw corrupt(path, "tensor '" + key + "' has no shape");
        }
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw corrupt(path, "tensor '" + key + "' has an invalid dimension " + d);
            }
            shape[i] = d.asLong();
            numel = Math.multiplyExact(numel, shape[i]);
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                || !off.get(1).isIntegralNumber()) {
            throw corrupt(path, "tensor '" + key + "' has no valid data_offsets");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw corrupt(path, "tensor '" + key + "' has invalid data_offsets [" + begin + ", " + end + "]");
        }
        long expected = Math.multiplyExact(numel, dtype.size());
        if (end - begin != expected) {
            throw corrupt(path, "tensor '" + key + "' occupies " + (end - begin) + " bytes but " + dtype.code()
                    + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        if (end > dataSize) {
            throw corrupt(path, "tensor '" + key + "' ends at byte " + end + " of the data section, but the file holds only "
                    + dataSize + " data bytes (truncated)");
        }
        return new TensorInfo(key, dtype, shape, begin, end);
    }

    private static void checkCoverage(Path path, Map<String, TensorInfo> infos, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>(infos.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long at = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() < at) {
                throw corrupt(path, "tensor '" + t.name() + "' overlaps the previous tensor");
            }
            if (t.begin() > at) {
                throw corrupt(path, "data section has a hole before tensor '" + t.name() + "'");
            }
            at = t.end();
        }
        if (at != dataSize) {
            throw corrupt(path, "data section has " + (dataSize - at) + " bytes not covered by any tensor");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static CheckpointException corrupt(Path path, String what) {
        return new CheckpointException("corrupt safetensors file " + path + ": " + what);
    }

    public Path path() {
        return path;
    }

    /** The keys in header order. */
    public Set<String> keys() {
        return infos.keySet();
    }

    public boolean contains(String key) {
        return infos.containsKey(key);
    }

    /** The header entry of a key; throws naming the key when absent. */
    public TensorInfo info(String key) {
        TensorInfo t = infos.get(key);
        if (t == null) {
            throw new CheckpointException("checkpoint " + path + " has no tensor '" + key + "'");
        }
        return t;
    }

    /** All header entries, in header order. */
    public Map<String, TensorInfo> infos() {
        return infos;
    }

    /** The free-form string metadata of the header. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * A zero-copy, read-only CPU tensor over the mapped bytes of {@code key}, in the file's dtype. Valid until
     * {@link #close()}; the caller closes the returned Tensor object (which does not free the mapping).
     */
    public Tensor tensor(String key) {
        TensorInfo t = info(key);
        try (TensorOptions opts = new TensorOptions(t.dtype().scalarType())) {
            if (t.byteSize() == 0) {
                return torch.empty(t.shape(), opts, null);
            }
            MappedByteBuffer buf = map(t);
            BytePointer p = new BytePointer(buf);
            return torch.from_blob(p, t.shape(), opts);
        }
    }

    /**
     * A new CPU tensor of {@code key} in the file's dtype, filled by positional reads of the file straight into its
     * memory (no mapping: the kernel copies from its page cache). Owned by the caller (attached to an open
     * {@code PointerScope} as any new tensor) and independent of this file's lifetime.
     *
     * <p>Why: a first read of a mapped page faults, and on a virtual machine whose page faults are dear (the 2-core
     * EPYC VM: about 1-2 µs per 4 KiB page even for the page cache) reading T3's 1.9 GB through a mapping took
     * 0.78-0.91 s, through {@code pread} into memory 0.15-0.19 s (docs/performance.md, "Eighteenth round"). It pays
     * where the new tensor's memory comes in huge pages; in 4 KiB pages this one thread faults them all in
     * ({@link StateDict} chooses).
     */
    public Tensor read(String key) {
        TensorInfo t = info(key);
        Tensor out;
        try (TensorOptions opts = new TensorOptions(t.dtype().scalarType())) {
            out = torch.empty(t.shape(), opts, null);
        }
        long n = t.byteSize();
        if (n == 0) {
            return out;
        }
        try (BytePointer all = new BytePointer(out.data_ptr())) {
            long done = 0;
            while (done < n) {
                long len = Math.min(n - done, 1L << 30);
                ByteBuffer dst = all.position(done).limit(done + len).asByteBuffer();
                readFully(dst, dataStart + t.begin() + done, key);
                done += len;
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    private void readFully(ByteBuffer dst, long position, String key) {
        if (closed) {
            throw new IllegalStateException("safetensors file " + path + " is closed");
        }
        try {
            long at = position;
            while (dst.hasRemaining()) {
                int r = channel.read(dst, at);
                if (r < 0) {
                    throw new CheckpointException("checkpoint file " + path + " ended inside tensor '" + key
                            + "' (was it changed while loading?)");
                }
                at += r;
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read tensor '" + key + "' of " + path + ": " + e.getMessage(), e);
        }
    }

    private MappedByteBuffer map(TensorInfo t) {
        synchronized (mappings) {
            if (closed) {
                throw new IllegalStateException("safetensors file " + path + " is closed");
            }
            try {
                MappedByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.byteSize());
                mappings.add(buf);
                return buf;
            } catch (IOException e) {
                throw new CheckpointException("cannot map tensor '" + t.name() + "' of " + path + ": " + e.getMessage(), e);
            }
        }
    }

    /** Unmaps every region and closes the file. Views returned by {@link #tensor} become invalid. */
    @Override
    public void close() {
        synchronized (mappings) {
            if (closed) {
                return;
            }
            closed = true;
            for (MappedByteBuffer b : mappings) {
                Unmapper.unmap(b);
            }
            mappings.clear();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing useful to do
        }
    }

    /** Releases a mapping at once instead of waiting for the garbage collector. */
    private static final class Unmapper {
        private static final Object UNSAFE;
        private static final Method INVOKE_CLEANER;

        static {
            Object u = null;
            Method m = null;
            try {
                Class<?> c = Class.forName("sun.misc.Unsafe");
                Field f = c.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                u = f.get(null);
                m = c.getMethod("invokeCleaner", ByteBuffer.class);
            } catch (ReflectiveOperationException | RuntimeException e) {
                u = null;
                m = null;
            }
            UNSAFE = u;
            INVOKE_CLEANER = m;
        }

        static void unmap(MappedByteBuffer b) {
            if (INVOKE_CLEANER == null) {
                return;
            }
            try {
                INVOKE_CLEANER.invoke(UNSAFE, b);
            } catch (ReflectiveOperationException | RuntimeException ignored) {
                // falls back to the GC
            }
        }
    }
}
