package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.http.CrossSiteGuard;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.BadRequestException;
import io.helidon.http.HeaderNames;
import io.helidon.http.RequestException;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads request bodies with a size limit, answering oversize bodies with 413 before or while reading. Read failures
 * are sorted: a malformed body framing (a chunk size of {@code zz} or 2^72) is a 400 that closes the connection; a
 * client that goes away mid-body is a {@link ClientClosedException} (no answer, counted as {@code client_closed}).
 */
public final class Bodies {
    private Bodies() {
    }

    /** The whole body, at most {@code limit} bytes; an absent body is an empty array. */
    public static byte[] read(ServerRequest req, long limit) {
        if (!req.content().hasEntity()) {
            checkDeclaredLength(req, limit);
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = open(req, limit)) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new ClientClosedException("the request body could not be read", e);
        }
        return out.toByteArray();
    }

    /**
     * The body as a stream of at most {@code limit} bytes (413 beyond, before reading when Content-Length says so),
     * whose read failures are already sorted into 400 + close and {@link ClientClosedException}.
     */
    public static InputStream open(ServerRequest req, long limit) {
        checkDeclaredLength(req, limit);
        InputStream raw;
        try {
            raw = req.content().inputStream();
        } catch (RuntimeException e) {
            throw sort(e);
        }
        return new FilterInputStream(raw) {
            private long total;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n;
                try {
                    n = super.read(b, off, len);
                } catch (RuntimeException e) {
                    throw sort(e);
                } catch (IOException e) {
                    throw new ClientClosedException("the request body could not be read", e);
                }
                if (n > 0) {
                    total += n;
                    if (total > limit) {
                        throw ApiErrors.tooLarge(limit);
                    }
                }
                return n;
            }

            @Override
            public void close() {
                try {
                    super.close();
                } catch (IOException | RuntimeException ignored) {
                    // closing only drains; a failure here changes nothing for the answer
                }
            }
        };
    }

    private static void checkDeclaredLength(ServerRequest req, long limit) {
        Optional<String> cl = req.headers().first(HeaderNames.CONTENT_LENGTH);
        if (cl.isPresent()) {
            try {
                if (Long.parseLong(cl.get().trim()) > limit) {
                    throw ApiErrors.tooLarge(limit);
                }
            } catch (NumberFormatException e) {
                throw malformed("Invalid Content-Length header.");
            }
        }
    }

    /** What a runtime failure while reading the body means for the answer. */
    private static RuntimeException sort(RuntimeException e) {
        if (e instanceof ApiException || e instanceof CloseConnectionException) {
            return e;
        }
        if (e instanceof RequestException || e instanceof BadRequestException) {
            // Helidon's chunk parser: "Chunk size is invalid", "Invalid terminating chunk"
            return malformed("The request body is malformed (invalid chunked transfer encoding).");
        }
        if (e instanceof DataReader.InsufficientDataAvailableException || e instanceof UncheckedIOException) {
            return new ClientClosedException("the client closed the connection mid-body", e);
        }
        return malformed("The request body could not be read.");
    }

    /** A 400 for a body whose framing is broken: the connection cannot be reused, so it is closed after the answer. */
    static ApiException malformed(String message) {
        return new ApiException(400, new ApiError(message, ApiError.INVALID_REQUEST, null, "invalid_body"),
                Map.of("Connection", "close"), null);
    }

    /** The media type of the request (lower case, without parameters), or an empty string. */
    public static String mediaType(ServerRequest req) {
        return req.headers().first(HeaderNames.CONTENT_TYPE)
                .map(v -> v.split(";", 2)[0].trim().toLowerCase(Locale.ROOT)).orElse("");
    }

    /**
     * Throws 415 unless the body is JSON ({@code application/json} or {@code application/*+json}) or absent. The
     * {@link ApiFilter}'s cross-site rule refuses other types first; this guards handlers reached another way.
     */
    public static void requireJson(ServerRequest req) {
        String mt = mediaType(req);
        if (!mt.isEmpty() && !CrossSiteGuard.isJson(mt)) {
            throw ApiErrors.unsupportedMediaType(mt, "application/json");
        }
    }
}
