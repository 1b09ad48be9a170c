package dev.localai.manager.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Finds the {@code model} of an OpenAI request: JSON body field, multipart form field, or query parameter. */
public final class ModelExtractor {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelExtractor() {}

    public static String extract(String contentType, byte[] body, String queryModel) {
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (ct.startsWith("multipart/form-data")) {
            String b = boundary(contentType);
            String m = b == null ? null : multipartField(body, b, "model");
            if (m != null) return m.strip();
        } else if (body.length > 0 && (ct.contains("json") || ct.isEmpty() || firstNonSpace(body) == '{')) {
            try {
                JsonNode n = JSON.readTree(body);
                if (n != null && n.isObject() && n.get("model") != null && n.get("model").isTextual()) return n.get("model").asText();
            } catch (IOException e) {
                return queryModel;
            }
        }
        return queryModel;
    }

    /** A body that claims (or looks) to be JSON but does not parse. */
    public static boolean malformedJson(String contentType, byte[] body) {
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (body.length == 0 || ct.startsWith("multipart/") || !(ct.contains("json") || ct.isEmpty() || firstNonSpace(body) == '{'))
            return false;
        try {
            JSON.readTree(body);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Replaces the JSON body's {@code model} (used for upstream_model); other bodies are returned unchanged. */
    public static byte[] rewriteModel(String contentType, byte[] body, String newModel) {
        if (newModel == null || contentType == null || !contentType.toLowerCase(Locale.ROOT).contains("json")) return body;
        try {
            JsonNode n = JSON.readTree(body);
            if (!(n instanceof ObjectNode o)) return body;
            o.put("model", newModel);
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            return body;
        }
    }

    private static int firstNonSpace(byte[] b) {
        for (byte x : b) if (!Character.isWhitespace(x)) return x;
        return -1;
    }

    static String boundary(String contentType) {
        for (String part : contentType.split(";")) {
            String p = part.strip();
            if (p.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
                String v = p.substring(9).strip();
                if (v.startsWith("\"") && v.endsWith("\"") && v.length() >= 2) v = v.substring(1, v.length() - 1);
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    /** Value of a simple (non-file) form field of a multipart body, or null. */
    static String multipartField(byte[] body, String boundary, String field) {
        byte[] delim = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        int pos = indexOf(body, delim, 0);
        while (pos >= 0) {
            int headStart = pos + delim.length;
            if (headStart + 1 < body.length && body[headStart] == '-' && body[headStart + 1] == '-') return null; // end
            int headEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), headStart);
            if (headEnd < 0) return null;
            String headers = new String(body, headStart, headEnd - headStart, StandardCharsets.UTF_8);
            int next = indexOf(body, ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1), headEnd + 4);
            if (next < 0) return null;
            for (String h : headers.split("\r\n")) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-disposition:") && lower.contains("name=\"" + field + "\"") && !lower.contains("filename=")) {
                    return new String(body, headEnd + 4, next - headEnd - 4, StandardCharsets.UTF_8);
                }
            }
            pos = next + 2;
        }
        return null;
    }

    static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = Math.max(0, from); i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
