package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code multipart/form-data} body (RFC 7578) read as a stream: parts up to {@value #IN_MEMORY} bytes stay in
 * memory, larger ones (the reference clips) are spooled to a temporary file as they arrive, so an upload never sits
 * in memory while it is being received. Parsing is strict; every defect is a 400 saying what is wrong.
 * {@link #close()} deletes the spooled files.
 */
public final class Multipart implements AutoCloseable {
    /** Parts up to this size stay in memory. */
    static final int IN_MEMORY = 64 * 1024;
    private static final int MAX_PARTS = 32;
    private static final int MAX_HEADER_BYTES = 8 * 1024;

    private final List<Part> parts;

    private Multipart(List<Part> parts) {
        this.parts = List.copyOf(parts);
    }

    /**
     * One part.
     *
     * @param name        the form field name
     * @param fileName    the file name, or {@code null} for a plain field
     * @param contentType the part's Content-Type, or {@code null}
     * @param inline      the bytes when small, else {@code null}
     * @param file        the spooled bytes when large, else {@code null}
     * @param size        the size in bytes
     */
    public record Part(String name, String fileName, String contentType, byte[] inline, Path file, long size) {
        /** The bytes (read from the spool file when the part is large). */
        public byte[] data() {
            if (inline != null) {
                return inline;
            }
            try {
                return Files.readAllBytes(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The data as UTF-8 text. */
        public String text() {
            return new String(data(), StandardCharsets.UTF_8);
        }
    }

    /** The parts in order. */
    public List<Part> parts() {
        return parts;
    }

    /** The first part with this field name. */
    public Optional<Part> part(String name) {
        return parts.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The first part with any of these names. */
    public Optional<Part> anyPart(String... names) {
        for (String n : names) {
            Optional<Part> p = part(n);
            if (p.isPresent()) {
                return p;
            }
        }
        return Optional.empty();
    }

    /** Deletes the spooled files. */
    @Override
    public void close() {
        for (Part p : parts) {
            deleteQuietly(p.file());
        }
    }

    /** Parses an in-memory body (nothing is spooled: the bytes are here already). */
    public static Multipart parse(String contentType, byte[] body) {
        return read(contentType, new ByteArrayInputStream(body), null);
    }

    /**
     * Reads a body from {@code in} (already size-limited by the caller), spooling large parts into {@code spoolDir}
     * ({@code null}: keep everything in memory).
     */
    public static Multipart read(String contentType, InputStream in, Path spoolDir) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).trim().startsWith("multipart/form-data")) {
            throw ApiErrors.unsupportedMediaType(contentType == null ? "" : contentType.split(";", 2)[0].trim(),
                    "multipart/form-data");
        }
        String boundary = param(contentType, "boundary");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            throw ApiException.invalid(null, "invalid_multipart",
                    "The multipart Content-Type has no valid 'boundary' parameter.");
        }
        Scanner s = new Scanner(in);
        List<Part> parts = new ArrayList<>();
        try {
            if (!s.skipPast(("--" + boundary).getBytes(StandardCharsets.ISO_8859_1))) {
                throw ApiException.invalid(null, "invalid_multipart",
                        "The multipart body does not contain its boundary; is it empty or truncated?");
            }
            byte[] next = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
            while (true) {
                if (s.startsWith("--")) {
                    break; // closing delimiter
                }
                if (!s.startsWith("\r\n")) {
                    throw malformed("a boundary is not followed by a line break");
                }
                s.skip(2);
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                if (!s.copyUntil("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), head, MAX_HEADER_BYTES)) {
                    throw malformed("a part has no end of headers");
                }
                Map<String, String> headers = headers(head.toString(StandardCharsets.UTF_8));
                String disposition = headers.get("content-disposition");
                if (disposition == null || !disposition.toLowerCase(Locale.ROOT).startsWith("form-data")) {
                    throw malformed("a part has no 'Content-Disposition: form-data' header");
                }
                String name = param(disposition, "name");
                if (name == null || name.isEmpty()) {
                    throw malformed("a part has no field name");
                }
                if (parts.size() >= MAX_PARTS) {
                    throw malformed("too many parts (at most " + MAX_PARTS + ")");
                }
                Sink sink = new Sink(spoolDir);
                boolean ended;
                try {
                    ended = s.copyUntil(next, sink, Long.MAX_VALUE);
                    sink.flush();
                } catch (IOException | RuntimeException e) {
                    sink.discard();
                    throw e;
                }
                parts.add(new Part(name, param(disposition, "filename"), headers.get("content-type"),
                        sink.inline(), sink.file, sink.size));
                if (!ended) {
                    throw malformed("the body ends inside a part (no closing boundary)");
                }
            }
            return new Multipart(parts);
        } catch (IOException e) {
            new Multipart(parts).close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            new Multipart(parts).close();
            throw e;
        }
    }

    private static ApiException malformed(String why) {
        return ApiException.invalid(null, "invalid_multipart", "Malformed multipart body: " + why + ".");
    }

    private static Map<String, String> headers(String block) {
        Map<String, String> h = new LinkedHashMap<>();
        for (String line : block.split("\r\n")) {
            int c = line.indexOf(':');
            if (c > 0) {
                h.put(line.substring(0, c).trim().toLowerCase(Locale.ROOT), line.substring(c + 1).trim());
            }
        }
        return h;
    }

    /** A parameter of a header value ({@code name="x"} or {@code name=x}), or {@code null}. */
    static String param(String header, String name) {
        for (String piece : header.split(";")) {
            String p = piece.trim();
            int eq = p.indexOf('=');
            if (eq > 0 && p.substring(0, eq).trim().equalsIgnoreCase(name)) {
                String v = p.substring(eq + 1).trim();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1);
                }
                return v;
            }
        }
        return null;
    }

    private static void deleteQuietly(Path f) {
        if (f != null) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // a temporary file; the OS cleans the temp folder eventually
            }
        }
    }

    /** Where one part's bytes go: memory first, a temporary file once they outgrow {@link #IN_MEMORY}. */
    private static final class Sink extends OutputStream {
        private final Path spoolDir;
        private final ByteArrayOutputStream mem = new ByteArrayOutputStream();
        private OutputStream out;
        private Path file;
        private long size;

        Sink(Path spoolDir) {
            this.spoolDir = spoolDir;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            size += len;
            if (out == null && spoolDir != null && mem.size() + len > IN_MEMORY) {
                file = Files.createTempFile(spoolDir, "tts-upload-", ".part");
                out = Files.newOutputStream(file);
                mem.writeTo(out);
                mem.reset();
            }
            if (out != null) {
                out.write(b, off, len);
            } else {
                mem.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            if (out != null) {
                out.close();
            }
        }

        byte[] inline() {
            return file == null ? mem.toByteArray() : null;
        }

        void discard() {
            try {
                if (out != null) {
                    out.close();
                }
            } catch (IOException ignored) {
                // deleted next
            }
            deleteQuietly(file);
        }
    }

    /**
     * A forward-only reader over the body with a window big enough to find a delimiter that straddles two reads.
     */
    private static final class Scanner {
        private final InputStream in;
        private byte[] buf = new byte[64 * 1024];
        private int pos;
        private int lim;
        private boolean eof;

        Scanner(InputStream in) {
            this.in = in;
        }

        /** Makes at least {@code n} bytes available unless the stream ends first; returns whether it did. */
        private boolean fill(int n) throws IOException {
            while (lim - pos < n && !eof) {
                if (pos > 0) {
                    System.arraycopy(buf, pos, buf, 0, lim - pos);
                    lim -= pos;
                    pos = 0;
                }
                if (lim == buf.length) {
                    buf = java.util.Arrays.copyOf(buf, buf.length * 2);
                }
                int r = in.read(buf, lim, buf.length - lim);
                if (r < 0) {
                    eof = true;
                } else {
                    lim += r;
                }
            }
            return lim - pos >= n;
        }

        boolean startsWith(String s) throws IOException {
            if (!fill(s.length())) {
                return false;
            }
            for (int i = 0; i < s.length(); i++) {
                if (buf[pos + i] != (byte) s.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        void skip(int n) throws IOException {
            fill(n);
            pos += Math.min(n, lim - pos);
        }

        /** Discards bytes up to and including {@code delim}; {@code false} if the stream ends first. */
        boolean skipPast(byte[] delim) throws IOException {
            return copyUntil(delim, OutputStream.nullOutputStream(), Long.MAX_VALUE);
        }

        /**
         * Copies bytes to {@code out} up to {@code delim}, which is consumed but not copied. Returns {@code false}
         * if the stream ends first (everything read is copied); throws 400 when more than {@code max} bytes come
         * before it.
         */
        boolean copyUntil(byte[] delim, OutputStream out, long max) throws IOException {
            long copied = 0;
            while (true) {
                fill(delim.length);
                int found = indexOf(delim);
                int upto = found >= 0 ? found : eof ? lim : Math.max(pos, lim - delim.length + 1);
                int n = upto - pos;
                copied += n;
                if (copied > max) {
                    throw malformed("a part's headers are longer than " + max + " bytes");
                }
                out.write(buf, pos, n);
                pos = upto;
                if (found >= 0) {
                    pos += delim.length;
                    return true;
                }
                if (eof) {
                    return false;
                }
                fill(lim - pos + 1); // read on: the tail may be the start of the delimiter
            }
        }

        private int indexOf(byte[] d) {
            outer:
            for (int i = pos; i <= lim - d.length; i++) {
                for (int j = 0; j < d.length; j++) {
                    if (buf[i + j] != d[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
