package dev.localai.tts.core.checkpoint.pickle;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads and writes the {@code torch.save} zip format ({@code <root>/data.pkl} + {@code <root>/data/<key>} raw
 * little-endian storages + {@code <root>/version}), without Python and without LibTorch.
 *
 * <p>Reading yields a tree of {@link Map} (string keys, insertion order kept), {@link List}, {@link StoredTensor},
 * {@link String}, {@link Long}, {@link Double}, {@link Boolean} and {@code null}. Writing accepts the same tree, plus
 * LibTorch {@link org.bytedeco.pytorch.Tensor}s, and produces a file that {@code torch.load(weights_only=True)} reads.
 */
public final class TorchZip {
    private static final int ALIGN = 64;

    private TorchZip() {}

    /** The unpickled root object. */
    public static Object read(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String root = null;
            Enumeration<? extends ZipEntry> en = zip.entries();
            while (en.hasMoreElements()) {
                String name = en.nextElement().getName();
                if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                    root = name.substring(0, name.length() - "data.pkl".length());
                    break;
                }
            }
            if (root == null) {
                throw new TorchPickleException(file + ": not a torch.save zip archive (no <name>/data.pkl record)");
            }
            byte[] pkl = entry(zip, root + "data.pkl", file);
            String prefix = root;
            Map<String, Unpickler.Storage> storages = new HashMap<>();
            Unpickler up = new Unpickler(pkl, pid -> {
                if (pid.size() != 5 || !"storage".equals(pid.get(0))
                        || !(pid.get(1) instanceof Unpickler.Global g) || !"torch".equals(g.module())) {
                    throw new TorchPickleException("unsupported persistent id " + pid);
                }
                TorchDType dt = TorchDType.ofStorageClass(g.name());
                String key = String.valueOf(pid.get(2));
                long numel = (Long) pid.get(4);
                return storages.computeIfAbsent(key, k -> {
                    byte[] bytes = entry(zip, prefix + "data/" + k, file);
                    if (bytes.length != numel * dt.elementSize()) {
                        throw new TorchPickleException(file + ": storage " + k + " holds " + bytes.length
                                + " bytes, expected " + numel + " x " + dt.elementSize());
                    }
                    return new Unpickler.Storage(dt, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
                });
            });
            try {
                return up.load();
            } catch (TorchPickleException e) {
                throw new TorchPickleException(file + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new TorchPickleException(file + ": malformed pickle (" + e + ")", e);
            }
        } catch (IOException e) {
            throw new TorchPickleException(file + ": cannot read torch.save archive: " + e.getMessage(), e);
        }
    }

    /** The root object, which must be a dict with string keys (as conds.pt is). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readMap(Path file) {
        Object root = read(file);
        if (!(root instanceof Map<?, ?> m) || !m.keySet().stream().allMatch(k -> k instanceof String)) {
            throw new TorchPickleException(file + ": root object is not a dict with string keys");
        }
        return (Map<String, Object>) root;
    }

    /**
     * Flattens nested dicts to dotted keys ({@code t3.speaker_emb}); {@code null} leaves are kept as {@code null}
     * values.
     */
    public static Map<String, Object> flatten(Map<String, ?> tree) {
        Map<String, Object> out = new LinkedHashMap<>();
        flatten("", tree, out);
        return out;
    }

    private static void flatten(String prefix, Map<?, ?> m, Map<String, Object> out) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String k = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> sub) {
                flatten(k + ".", sub, out);
            } else {
                out.put(k, e.getValue());
            }
        }
    }

    private static byte[] entry(ZipFile zip, String name, Path file) {
        ZipEntry e = zip.getEntry(name);
        if (e == null) {
            throw new TorchPickleException(file + ": missing record " + name);
        }
        try (InputStream in = zip.getInputStream(e)) {
            return in.readAllBytes();
        } catch (IOException ex) {
            throw new TorchPickleException(file + ": cannot read record " + name + ": " + ex.getMessage(), ex);
        }
    }

    /** Writes {@code root} as a torch.save archive, atomically (temporary file then rename). */
    public static void write(Path file, Object root) {
        Pickler p = new Pickler();
        byte[] pkl = p.dump(root);
        String stem = "archive/";
        List<String> names = new ArrayList<>();
        List<byte[]> datas = new ArrayList<>();
        names.add(stem + "data.pkl");
        datas.add(pkl);
        names.add(stem + "byteorder");
        datas.add("little".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < p.storages.size(); i++) {
            names.add(stem + "data/" + i);
            datas.add(p.storages.get(i));
        }
        names.add(stem + "version");
        datas.add("3\n".getBytes(StandardCharsets.US_ASCII));
        Path dir = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try {
                try (OutputStream os = Files.newOutputStream(tmp)) {
                    os.write(storedZip(names, datas));
                }
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * An uncompressed zip whose record payloads start at multiples of 64 bytes (padding in the local header's extra
     * field, as PyTorch's writer does), with a fixed 1980-01-01 timestamp so the output is reproducible.
     */
    static byte[] storedZip(List<String> names, List<byte[]> datas) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        for (int i = 0; i < names.size(); i++) {
            byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            byte[] data = datas.get(i);
            CRC32 crc = new CRC32();
            crc.update(data);
            int offset = out.size();
            int headerEnd = offset + 30 + name.length;
            int pad = (ALIGN - ((headerEnd + 4) % ALIGN)) % ALIGN;
            int extraLen = 4 + pad;
            ByteBuffer h = le(30 + name.length + extraLen);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0x21).putInt((int) crc.getValue())
                    .putInt(data.length).putInt(data.length).putShort((short) name.length)
                    .putShort((short) extraLen).put(name).putShort((short) 0x4246).putShort((short) pad);
            out.writeBytes(h.array());
            out.writeBytes(data);
            ByteBuffer c = le(46 + name.length);
            c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0x21).putInt((int) crc.getValue()).putInt(data.length)
                    .putInt(data.length).putShort((short) name.length).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(offset).put(name);
            central.writeBytes(c.array());
        }
        int cdOffset = out.size();
        out.writeBytes(central.toByteArray());
        ByteBuffer end = le(22);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) names.size())
                .putShort((short) names.size()).putInt(central.size()).putInt(cdOffset).putShort((short) 0);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
