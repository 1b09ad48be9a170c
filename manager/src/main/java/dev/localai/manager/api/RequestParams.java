package dev.localai.manager.api;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import io.helidon.http.RequestException;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Locale;

/** Reading a request's parameters and body, with typed 400/404/413 errors for bad input. */
final class RequestParams {
    private RequestParams() {}

    /** The {@code {id}} path parameter resolved (aliases too) to a model ID; 404 when unknown. */
    static String modelId(ServerRequest req, ManagerConfig config) {
        String raw = req.path().pathParameters().get("id");
        return config.resolve(raw).map(ModelSpec::id)
                .orElseThrow(() -> error(404, "model_not_found", "The model '" + raw + "' does not exist"));
    }

    /** The longest wait a request may ask for: one day. */
    static final double MAX_WAIT_S = 86_400;

    /** {@code ?wait_s=} in seconds (0 to one day), or the default; anything else is a 400, never an overflow. */
    static Duration waitParam(ServerRequest req, int defSeconds) {
        if (!req.query().contains("wait_s")) return Duration.ofSeconds(defSeconds);
        double s;
        try {
            s = Double.parseDouble(req.query().get("wait_s").strip());
        } catch (NumberFormatException e) {
            throw error(400, "invalid_parameter", "wait_s must be a number of seconds");
        }
        if (!(s >= 0 && s <= MAX_WAIT_S))
            throw error(400, "invalid_parameter", "wait_s must be between 0 and " + (long) MAX_WAIT_S + " seconds");
        return Duration.ofMillis(Math.round(s * 1000));
    }

    /** An integer query parameter in [min, max], or the default; anything else is a 400. */
    static int intParam(ServerRequest req, String name, int def, int min, int max) {
        if (!req.query().contains(name)) return def;
        try {
            int v = Integer.parseInt(req.query().get(name).strip());
            if (v >= min && v <= max) return v;
        } catch (NumberFormatException e) {
            // below
        }
        throw error(400, "invalid_parameter", name + " must be an integer between " + min + " and " + max);
    }

    /** A boolean query flag: absent = false. */
    static boolean flag(ServerRequest req, String name) {
        return req.query().contains(name) && parseBool(req.query().get(name));
    }

    static boolean parseBool(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "true", "1", "on", "yes" -> true;
            case "false", "0", "off", "no" -> false;
            default -> throw error(400, "invalid_parameter", "not a boolean: " + s);
        };
    }

    /** The whole body, at most {@code limit} bytes (413 beyond, whether or not a Content-Length was sent). */
    static byte[] body(ServerRequest req, long limit) {
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > limit) throw error(413, "request_too_large", "Request body exceeds " + limit + " bytes");
        try (InputStream in = req.content().inputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[16384];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                if (out.size() > limit) throw error(413, "request_too_large", "Request body exceeds " + limit + " bytes");
            }
            return out.toByteArray();
        } catch (IOException | UncheckedIOException e) {
            throw new CloseConnectionException("the client went away while sending the body", e);
        } catch (RequestException e) {
            int code = e.status().code();
            throw error(code >= 400 ? code : 400, "bad_request", "Bad request: " + e.getMessage());
        }
    }
}
