package dev.localai.tts.core.checkpoint.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes a value tree as protocol-2 pickle the way torch.save does: tensors become
 * {@code torch._utils._rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())} with the
 * storage bytes collected for the zip's {@code data/<n>} records.
 */
final class Pickler {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    /** Storage bytes in key order 0, 1, 2, ... */
    final List<byte[]> storages = new ArrayList<>();

    byte[] dump(Object root) {
        out.write(0x80);
        out.write(2);
        write(root);
        out.write('.');
        return out.toByteArray();
    }

    private void write(Object o) {
        switch (o) {
            case null -> out.write('N');
            case Boolean b -> out.write(b ? 0x88 : 0x89);
            case Integer i -> writeInt(i);
            case Long l -> writeInt(l);
            case Float f -> writeFloat(f);
            case Double d -> writeFloat(d);
            case String s -> writeString(s);
            case StoredTensor t -> writeTensor(t);
            case Tensor t -> writeTensor(StoredTensor.fromTensor(t));
            case Map<?, ?> m -> {
                out.write('}');
                if (!m.isEmpty()) {
                    out.write('(');
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        write(e.getKey());
                        write(e.getValue());
                    }
                    out.write('u');
                }
            }
            case List<?> l -> {
                out.write(']');
                if (!l.isEmpty()) {
                    out.write('(');
                    for (Object x : l) {
                        write(x);
                    }
                    out.write('e');
                }
            }
            case long[] a -> writeTuple(a);
            default -> throw new TorchPickleException("cannot pickle a " + o.getClass().getName());
        }
    }

    private void writeInt(long v) {
        if (v >= 0 && v < 0x100) {
            out.write('K');
            out.write((int) v);
        } else if (v >= 0 && v < 0x10000) {
            out.write('M');
            out.write((int) v & 0xff);
            out.write((int) (v >>> 8) & 0xff);
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        } else {
            out.write(0x8a);
            out.write(8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }
    }

    private void writeFloat(double d) {
        out.write('G');
        out.writeBytes(ByteBuffer.allocate(8).putDouble(d).array());
    }

    private void writeString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
    }

    private void writeGlobal(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private void writeTuple(long[] a) {
        switch (a.length) {
            case 0 -> out.write(')');
            case 1, 2, 3 -> {
                for (long v : a) {
                    writeInt(v);
                }
                out.write(0x85 + a.length - 1);
            }
            default -> {
                out.write('(');
                for (long v : a) {
                    writeInt(v);
                }
                out.write('t');
            }
        }
    }

    private void writeTensor(StoredTensor t) {
        byte[] data = t.contiguousBytes();
        int key = storages.size();
        storages.add(data);
        writeGlobal("torch._utils", "_rebuild_tensor_v2");
        out.write('(');
        // persistent id: ('storage', torch.<Type>Storage, key, location, numel)
        out.write('(');
        writeString("storage");
        writeGlobal("torch", t.dtype().storageClass());
        writeString(Integer.toString(key));
        writeString("cpu");
        writeInt(t.numel());
        out.write('t');
        out.write('Q');
        writeInt(0);
        writeTuple(t.shape());
        writeTuple(StoredTensor.contiguousStrides(t.shape()));
        out.write(0x89);
        writeGlobal("collections", "OrderedDict");
        out.write(')');
        out.write('R');
        out.write('t');
        out.write('R');
    }
}
