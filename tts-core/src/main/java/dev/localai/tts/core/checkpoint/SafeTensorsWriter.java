package dev.localai.tts.core.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Writes safetensors files. Tensors are written in map order, the header is padded with spaces to an 8-byte
 * boundary, and the file appears atomically (written to a temporary sibling, forced to disk, then renamed).
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensorsWriter() {}

    public static void write(Path file, Map<String, Tensor> tensors) {
        write(file, tensors, Map.of());
    }

    /** Writes {@code tensors} (any device, any layout; copied to contiguous CPU memory) and string metadata. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        List<Tensor> cpu = new ArrayList<>(tensors.size());
        try {
            long offset = 0;
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
                }
                Tensor t = e.getValue();
                DType dtype = DType.of(t.scalar_type());
                Tensor c = t.is_cuda() || !t.is_contiguous() ? t.to(new org.bytedeco.pytorch.Device("cpu"),
                        t.scalar_type()).contiguous() : t;
                cpu.add(c);
                ObjectNode entry = header.putObject(e.getKey());
                entry.put("dtype", dtype.code());
                ArrayNode shape = entry.putArray("shape");
                for (long d : c.sizes().vec().get()) {
                    shape.add(d);
                }
                long n = c.nbytes();
                ArrayNode off = entry.putArray("data_offsets");
                off.add(offset);
                off.add(offset + n);
                offset += n;
            }
            byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            int padded = (json.length + 7) / 8 * 8;
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded);
            head.put(json);
            while (head.position() < head.capacity()) {
                head.put((byte) ' ');
            }
            head.flip();

            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    writeAll(ch, head);
                    for (Tensor c : cpu) {
                        long n = c.nbytes();
                        if (n == 0) {
                            continue;
                        }
                        BytePointer p = new BytePointer(c.data_ptr()).capacity(n);
                        long done = 0;
                        while (done < n) {
                            int len = (int) Math.min(n - done, 1 << 30);
                            ByteBuffer b = p.position(done).limit(done + len).asByteBuffer();
                            writeAll(ch, b);
                            done += len;
                        }
                    }
                    ch.force(true);
                }
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            int i = 0;
            for (Tensor t : tensors.values()) {
                if (i < cpu.size() && cpu.get(i) != t) {
                    cpu.get(i).close();
                }
                i++;
            }
        }
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** True for the element types this writer accepts. */
    public static boolean supports(ScalarType type) {
        try {
            DType.of(type);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
