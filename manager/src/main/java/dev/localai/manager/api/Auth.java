package dev.localai.manager.api;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.config.ManagerConfig;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * API keys: inference keys for the OpenAI surface and read-only views, admin keys for the control plane.
 * Keys come as {@code Authorization: Bearer KEY}, {@code x-api-key: KEY} or Basic (password part); compared
 * in constant time. With no keys configured everything is open. When only inference keys are configured,
 * they also grant admin access (documented); admin keys always grant inference access.
 */
public final class Auth {
    public enum Level { INFERENCE, ADMIN }

    private final List<byte[]> apiKeys;
    private final List<byte[]> adminKeys;

    public Auth(ManagerConfig.Auth cfg) {
        this.apiKeys = cfg.apiKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        this.adminKeys = cfg.adminKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    public boolean enabled() {
        return !apiKeys.isEmpty() || !adminKeys.isEmpty();
    }

    public void require(ServerRequest req, Level level) {
        if (!enabled()) return;
        Optional<String> key = presented(req);
        if (key.isEmpty()) throw error(401, "invalid_api_key", "Missing API key (Authorization: Bearer ... or x-api-key)");
        byte[] k = key.get().getBytes(StandardCharsets.UTF_8);
        boolean admin = matches(adminKeys, k);
        boolean inference = matches(apiKeys, k);
        if (level == Level.INFERENCE && (admin || inference)) return;
        if (level == Level.ADMIN && (admin || (adminKeys.isEmpty() && inference))) return;
        if (level == Level.ADMIN && inference) throw error(403, "admin_key_required", "This endpoint requires an admin key");
        throw error(401, "invalid_api_key", "Invalid API key");
    }

    private static boolean matches(List<byte[]> keys, byte[] k) {
        boolean hit = false;
        for (byte[] c : keys) hit |= MessageDigest.isEqual(c, k);
        return hit;
    }

    static Optional<String> presented(ServerRequest req) {
        Optional<String> x = req.headers().first(HeaderNames.create("x-api-key"));
        if (x.isPresent() && !x.get().isBlank()) return Optional.of(x.get().strip());
        Optional<String> a = req.headers().first(HeaderNames.AUTHORIZATION);
        if (a.isEmpty()) return Optional.empty();
        String v = a.get().strip();
        if (v.regionMatches(true, 0, "Bearer ", 0, 7)) return Optional.of(v.substring(7).strip());
        if (v.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String dec = new String(Base64.getDecoder().decode(v.substring(6).strip()), StandardCharsets.UTF_8);
                int c = dec.indexOf(':');
                return Optional.of(c >= 0 ? dec.substring(c + 1) : dec);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
