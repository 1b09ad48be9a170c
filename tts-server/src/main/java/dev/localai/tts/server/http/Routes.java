package dev.localai.tts.server.http;

import dev.localai.tts.api.http.CrossSiteGuard;
import java.util.regex.Pattern;

/** The API's paths: metric labels (ids replaced by placeholders) and which ones are listings. */
public final class Routes {
    public static final String SPEECH = "/v1/audio/speech";
    public static final String VOICES = "/v1/audio/voices";
    public static final String AUDIO_MODELS = "/v1/audio/models";
    public static final String MODELS = "/v1/models";
    public static final String TAGS = "/v1/audio/tags";

    private static final Pattern VOICE = Pattern.compile("/v1/audio/voices/[^/]+");
    private static final Pattern PREVIEW = Pattern.compile("/v1/audio/voices/[^/]+/preview");
    private static final Pattern MODEL = Pattern.compile("/v1/models/[^/]+");

    private Routes() {
    }

    /** A bounded label for metrics. */
    public static String label(String path) {
        return switch (path) {
            case SPEECH, VOICES, AUDIO_MODELS, MODELS, TAGS, "/health", "/health/live", "/health/ready", "/metrics" -> path;
            default -> PREVIEW.matcher(path).matches() ? VOICES + "/{id}/preview"
                    : VOICE.matcher(path).matches() ? VOICES + "/{id}"
                    : MODEL.matcher(path).matches() ? MODELS + "/{id}"
                    : path.startsWith("/v1/") ? "/v1/other" : "static";
        };
    }

    /**
     * The kind of route for the cross-site rule: the JSON endpoints ({@code POST} speech, {@code PATCH} of a voice)
     * take only JSON bodies; everything else changes state only through its method.
     */
    public static CrossSiteGuard.Route crossSiteRoute(String method, String path) {
        boolean json = method.equals("POST") && path.equals(SPEECH)
                || method.equals("PATCH") && VOICE.matcher(path).matches();
        return json ? CrossSiteGuard.Route.JSON : CrossSiteGuard.Route.PLAIN;
    }

    /** Read-only listings that may be exempt from the API key (Open WebUI sends no key there). */
    public static boolean isListing(String path) {
        return path.equals(VOICES) || path.equals(AUDIO_MODELS) || path.equals(MODELS) || path.equals(TAGS)
                || MODEL.matcher(path).matches();
    }
}
