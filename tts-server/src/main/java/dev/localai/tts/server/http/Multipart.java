package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code multipart/form-data} body (RFC 7578): its parts by field name. Parsing is strict and bounded (the
 * body is already size-limited); every defect is a 400 saying what is wrong.
 *
 * @param parts the parts in order
 */
public record Multipart(List<Part> parts) {

    /**
     * One part.
     *
     * @param name        the form field name
     * @param fileName    the file name, or {@code null} for a plain field
     * @param contentType the part's Content-Type, or {@code null}
     * @param data        the bytes
     */
    public record Part(String name, String fileName, String contentType, byte[] data) {
        /** The data as UTF-8 text. */
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    public Multipart {
        parts = List.copyOf(parts);
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

    /** Parses {@code body} sent with the Content-Type header value {@code contentType}. */
    public static Multipart parse(String contentType, byte[] body) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).trim().startsWith("multipart/form-data")) {
            throw ApiErrors.unsupportedMediaType(contentType == null ? "" : contentType.split(";", 2)[0].trim(),
                    "multipart/form-data");
        }
        String boundary = param(contentType, "boundary");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            throw ApiException.invalid(null, "invalid_multipart",
                    "The multipart Content-Type has no valid 'boundary' parameter.");
        }
        byte[] delim = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        int pos = indexOf(body, delim, 0);
        if (pos < 0) {
            throw ApiException.invalid(null, "invalid_multipart",
                    "The multipart body does not contain its boundary; is it empty or truncated?");
        }
        List<Part> parts = new ArrayList<>();
        pos += delim.length;
        while (true) {
            if (startsWith(body, pos, "--")) {
                break; // closing delimiter
            }
            if (!startsWith(body, pos, "\r\n")) {
                throw malformed("a boundary is not followed by a line break");
            }
            pos += 2;
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
            if (headersEnd < 0) {
                throw malformed("a part has no end of headers");
            }
            Map<String, String> headers = headers(new String(body, pos, headersEnd - pos, StandardCharsets.UTF_8));
            int dataStart = headersEnd + 4;
            byte[] next = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
            int dataEnd = indexOf(body, next, dataStart);
            if (dataEnd < 0) {
                throw malformed("the body ends inside a part (no closing boundary)");
            }
            String disposition = headers.get("content-disposition");
            if (disposition == null || !disposition.toLowerCase(Locale.ROOT).startsWith("form-data")) {
                throw malformed("a part has no 'Content-Disposition: form-data' header");
            }
            String name = param(disposition, "name");
            if (name == null || name.isEmpty()) {
                throw malformed("a part has no field name");
            }
            byte[] data = java.util.Arrays.copyOfRange(body, dataStart, dataEnd);
            parts.add(new Part(name, param(disposition, "filename"), headers.get("content-type"), data));
            pos = dataEnd + next.length;
            if (parts.size() > 32) {
                throw malformed("too many parts (at most 32)");
            }
        }
        return new Multipart(parts);
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

    private static boolean startsWith(byte[] a, int at, String s) {
        if (at + s.length() > a.length) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (a[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] a, byte[] b, int from) {
        outer:
        for (int i = from; i <= a.length - b.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (a[i + j] != b[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
