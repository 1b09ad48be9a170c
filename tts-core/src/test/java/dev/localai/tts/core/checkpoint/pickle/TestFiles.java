package dev.localai.tts.core.checkpoint.pickle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test helpers: locate the golden fixtures, read one tensor out of a safetensors file without natives. */
final class TestFiles {
    private TestFiles() {}

    static Path goldenTiny() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path g = p.resolve("shared/golden/tiny");
            if (Files.isDirectory(g)) {
                return g;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("shared/golden/tiny not found above " + Path.of("").toAbsolutePath());
    }

    /** Raw little-endian bytes of one tensor of a safetensors file. */
    static ByteBuffer safetensor(Path file, String key) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong();
        String header = new String(all, 8, n, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"" + Pattern.quote(key)
                + "\"\\s*:\\s*\\{[^}]*\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]").matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException(key + " not in " + file);
        }
        int from = 8 + n + Integer.parseInt(m.group(1));
        int to = 8 + n + Integer.parseInt(m.group(2));
        return ByteBuffer.wrap(all, from, to - from).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    static float[] floats(Path file, String key) throws IOException {
        ByteBuffer b = safetensor(file, key);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    static long[] longs(Path file, String key) throws IOException {
        ByteBuffer b = safetensor(file, key);
        long[] l = new long[b.remaining() / 8];
        b.asLongBuffer().get(l);
        return l;
    }
}
