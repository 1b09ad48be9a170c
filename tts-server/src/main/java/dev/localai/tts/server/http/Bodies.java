package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Optional;

/** Reads request bodies with a size limit, answering oversize bodies with 413 before or while reading. */
public final class Bodies {
    private Bodies() {
    }

    /** The whole body, at most {@code limit} bytes; an absent body is an empty array. */
    public static byte[] read(ServerRequest req, long limit) {
        Optional<String> cl = req.headers().first(HeaderNames.CONTENT_LENGTH);
        if (cl.isPresent()) {
            try {
                if (Long.parseLong(cl.get().trim()) > limit) {
                    throw ApiErrors.tooLarge(limit);
                }
            } catch (NumberFormatException e) {
                throw ApiException.invalid(null, "invalid_request", "Invalid Content-Length header.");
            }
        }
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        try (InputStream in = req.content().inputStream()) {
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > limit) {
                    throw ApiErrors.tooLarge(limit);
                }
                out.write(buf, 0, n);
            }
        } catch (IOException | UncheckedIOException e) {
            throw ApiException.invalid(null, "invalid_request", "The request body could not be read: "
                    + e.getMessage());
        }
        return out.toByteArray();
    }

    /** The media type of the request (lower case, without parameters), or an empty string. */
    public static String mediaType(ServerRequest req) {
        return req.headers().first(HeaderNames.CONTENT_TYPE)
                .map(v -> v.split(";", 2)[0].trim().toLowerCase(Locale.ROOT)).orElse("");
    }

    /**
     * Throws 415 unless the body may be JSON: {@code application/json} (or {@code +json}), no Content-Type, or the
     * types {@code curl -d} and some HTTP libraries send by default ({@code application/x-www-form-urlencoded},
     * {@code text/plain}); the body is then parsed as JSON, and a body that is not JSON gets a precise 400.
     */
    public static void requireJson(ServerRequest req) {
        String mt = mediaType(req);
        if (!mt.isEmpty() && !mt.equals("application/json") && !mt.endsWith("+json")
                && !mt.equals("application/x-www-form-urlencoded") && !mt.equals("text/plain")) {
            throw ApiErrors.unsupportedMediaType(mt, "application/json");
        }
    }
}
