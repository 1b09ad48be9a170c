package dev.localai.tts.core.hub;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * How to talk to the hub.
 *
 * @param endpoint       base URL, {@code https://huggingface.co} unless {@code HF_ENDPOINT} says otherwise
 * @param token          bearer token or null ({@code HF_TOKEN}, {@code HUGGING_FACE_HUB_TOKEN}, or the token file)
 * @param offline        never touch the network ({@code HF_HUB_OFFLINE=1})
 * @param connectTimeout short, so an unreachable hub fails fast
 * @param readTimeout    longest silence on an open connection before the transfer counts as broken
 * @param maxAttempts    transfer attempts per file (each resumes where the previous one stopped)
 * @param progress       where the progress bars go, or null for none
 */
public record HubOptions(URI endpoint, String token, boolean offline, Duration connectTimeout, Duration readTimeout,
        int maxAttempts, PrintStream progress) {

    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    public HubOptions {
        String e = endpoint.toString();
        if (e.endsWith("/")) {
            endpoint = URI.create(e.substring(0, e.length() - 1));
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
    }

    /** Defaults read from the environment the way huggingface_hub reads it. */
    public static HubOptions fromEnvironment(Map<String, String> env, Path userHome) {
        String ep = HubCache.nonBlank(env.get("HF_ENDPOINT"));
        String token = HubCache.nonBlank(env.get("HF_TOKEN"));
        if (token == null) {
            token = HubCache.nonBlank(env.get("HUGGING_FACE_HUB_TOKEN"));
        }
        if (token == null) {
            String tp = HubCache.nonBlank(env.get("HF_TOKEN_PATH"));
            Path tokenFile = tp != null ? Path.of(tp) : HubCache.hfHome(env, userHome).resolve("token");
            try {
                if (Files.isRegularFile(tokenFile)) {
                    token = HubCache.nonBlank(Files.readString(tokenFile));
                }
            } catch (IOException ignored) {
                // an unreadable token file means no token
            }
        }
        return new HubOptions(ep != null ? URI.create(ep) : DEFAULT_ENDPOINT, token,
                isTrue(env.get("HF_HUB_OFFLINE")), Duration.ofSeconds(5), Duration.ofSeconds(30), 5, null);
    }

    public static HubOptions fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static boolean isTrue(String v) {
        if (v == null) {
            return false;
        }
        return switch (v.trim().toUpperCase(Locale.ROOT)) {
            case "1", "ON", "YES", "TRUE" -> true;
            default -> false;
        };
    }

    public HubOptions withEndpoint(URI e) {
        return new HubOptions(e, token, offline, connectTimeout, readTimeout, maxAttempts, progress);
    }

    public HubOptions withToken(String t) {
        return new HubOptions(endpoint, t, offline, connectTimeout, readTimeout, maxAttempts, progress);
    }

    public HubOptions withOffline(boolean o) {
        return new HubOptions(endpoint, token, o, connectTimeout, readTimeout, maxAttempts, progress);
    }

    public HubOptions withTimeouts(Duration connect, Duration read) {
        return new HubOptions(endpoint, token, offline, connect, read, maxAttempts, progress);
    }

    public HubOptions withMaxAttempts(int n) {
        return new HubOptions(endpoint, token, offline, connectTimeout, readTimeout, n, progress);
    }

    public HubOptions withProgress(PrintStream p) {
        return new HubOptions(endpoint, token, offline, connectTimeout, readTimeout, maxAttempts, p);
    }
}
