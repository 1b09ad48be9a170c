package dev.localai.tts.api.http;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one cross-site rule of both services (tts-server and the manager), free of any HTTP library: a request filter
 * hands it the method, a header lookup and what kind of route was hit, and answers with the refusal, if any.
 *
 * <ol>
 *   <li><b>Host</b> (DNS-rebinding defence, every request): allowed when absent, an IP literal ({@code 10.0.0.5},
 *   {@code [::1]}), {@code localhost} or {@code *.localhost}, the configured listen host, or in
 *   {@code allowed_hosts} (exact names, {@code *.example.lan} for a domain's sub-names, {@code *} for any).
 *   Otherwise 403 {@code host_not_allowed}.</li>
 *   <li><b>Origin</b> (state-changing requests: every method but GET/HEAD/OPTIONS, and GET routes marked as
 *   changing state): an {@code Origin} that is neither same-origin (host and port of the {@code Host} header) nor in
 *   {@code allowed_origins} is refused with 403 {@code origin_not_allowed}, and so is {@code Sec-Fetch-Site:
 *   cross-site} without an allowed {@code Origin}. Requests without either header (curl, SDKs) pass.</li>
 *   <li><b>Content-Type</b> (JSON routes, when a body is sent): anything but {@code application/json} or
 *   {@code application/*+json} is 415 {@code unsupported_media_type}; this closes the {@code text/plain}
 *   "simple request" a foreign page may send without a CORS preflight.</li>
 *   <li><b>CORS</b> ({@link #corsHeaders}): no {@code Access-Control-Allow-*} header unless origins are configured,
 *   then only for those origins (echoed, with {@code Vary: Origin}); {@code *} only when configured as such.</li>
 * </ol>
 * The scheme of an {@code Origin} is not compared with the request's: behind a TLS-terminating proxy the service
 * cannot see it. A {@code Host} without a port is read as the default port of the {@code Origin}'s scheme.
 * API keys are checked separately; this guard is independent of them. Instances are immutable and thread-safe.
 */
public final class CrossSiteGuard {

    /** The error code of a refused {@code Host}. */
    public static final String HOST_NOT_ALLOWED = "host_not_allowed";
    /** The error code of a refused {@code Origin} / {@code Sec-Fetch-Site}. */
    public static final String ORIGIN_NOT_ALLOWED = "origin_not_allowed";

    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-f:.]{2,45}]");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");
    private static final int MAX_ECHO = 100;

    /** What kind of route a request hit; the method decides the rest. */
    public enum Route {
        /** Changes state only through non-safe methods; any body type. */
        PLAIN,
        /** Changes state even on GET (the manager's {@code GET /unload}). */
        STATE_CHANGING_GET,
        /** Reads a JSON body: a body with another Content-Type is 415. */
        JSON
    }

    private final String listenHost;
    private final List<String> allowedHosts;
    private final boolean anyHost;
    private final Set<String> allowedOrigins;
    private final boolean anyOrigin;
    private final String exposedHeaders;

    private CrossSiteGuard(String listenHost, Collection<String> allowedHosts, Collection<String> allowedOrigins,
                           Collection<String> exposedHeaders) {
        this.listenHost = listenHost == null ? null : normaliseHostName(listenHost);
        this.allowedHosts = allowedHosts.stream().map(String::trim).filter(s -> !s.isEmpty())
                .map(s -> s.equals("*") || s.startsWith("*.") ? s.toLowerCase(Locale.ROOT) : hostOf(s))
                .filter(s -> s != null).toList();
        this.anyHost = this.allowedHosts.contains("*");
        this.allowedOrigins = allowedOrigins.stream().map(String::trim).filter(s -> !s.isEmpty())
                .map(s -> s.equals("*") ? s : normaliseOrigin(s).orElseThrow(() -> new IllegalArgumentException(
                        "allowed origin '" + s + "' is not an origin such as https://host[:port]")))
                .collect(Collectors.toUnmodifiableSet());
        this.anyOrigin = this.allowedOrigins.contains("*");
        this.exposedHeaders = String.join(", ", exposedHeaders);
    }

    /**
     * A guard for a service.
     *
     * @param listenHost     the configured listen address or name ({@code 127.0.0.1}, {@code 0.0.0.0},
     *                       {@code tts.lan}); requests naming it in {@code Host} are allowed
     * @param allowedHosts   further names allowed in {@code Host}; {@code *} allows any, {@code *.lan} any sub-name
     * @param allowedOrigins origins ({@code https://dash.lan:8443}) allowed to change state and to get CORS headers;
     *                       {@code *} allows any origin; empty = same-origin only, no CORS
     * @param exposedHeaders response headers a browser page may read ({@code Access-Control-Expose-Headers})
     * @throws IllegalArgumentException when an allowed origin is not of the form {@code scheme://host[:port]}
     */
    public static CrossSiteGuard of(String listenHost, Collection<String> allowedHosts,
                                    Collection<String> allowedOrigins, Collection<String> exposedHeaders) {
        return new CrossSiteGuard(listenHost, allowedHosts, allowedOrigins, exposedHeaders);
    }

    /** A comma-separated list (an environment variable) as trimmed, non-empty items. */
    public static List<String> splitList(String csv) {
        if (csv == null) {
            return List.of();
        }
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Whether a method may change state (everything but GET, HEAD and OPTIONS). */
    public static boolean changesState(String method, Route route) {
        return route == Route.STATE_CHANGING_GET || !SAFE_METHODS.contains(method.toUpperCase(Locale.ROOT));
    }

    /**
     * The refusal of a request, if any: 403 {@code host_not_allowed}, 403 {@code origin_not_allowed} or 415
     * {@code unsupported_media_type}, checked in that order.
     *
     * @param method the request method
     * @param header a case-insensitive lookup of the first value of a request header ({@code null} when absent)
     * @param route  the kind of route hit
     */
    public Optional<ApiException> check(String method, Function<String, String> header, Route route) {
        String host = header.apply("Host");
        if (!hostAllowed(host)) {
            return Optional.of(new ApiException(403, new ApiError("Host '" + echo(host) + "' is not allowed. "
                    + "Reach the service by IP address or localhost, or add the name to allowed_hosts.",
                    ApiError.INVALID_REQUEST, null, HOST_NOT_ALLOWED)));
        }
        if (changesState(method, route)) {
            String origin = header.apply("Origin");
            boolean crossSite = "cross-site".equalsIgnoreCase(trim(header.apply("Sec-Fetch-Site")));
            boolean refuse = origin != null ? !sameOrigin(origin, host) && !originAllowed(origin)
                    : crossSite && !anyOrigin;
            if (refuse) {
                return Optional.of(new ApiException(403, new ApiError("Cross-site requests may not change state"
                        + (origin == null ? "" : " (Origin '" + echo(origin) + "')")
                        + ". Add the page's origin to allowed_origins to allow it.",
                        ApiError.INVALID_REQUEST, null, ORIGIN_NOT_ALLOWED)));
            }
        }
        if (route == Route.JSON && hasBody(header)) {
            String ct = trim(header.apply("Content-Type"));
            if (!isJson(ct)) {
                return Optional.of(ApiErrors.unsupportedMediaType(ct == null ? "(none)" : echo(mediaType(ct)),
                        "application/json"));
            }
        }
        return Optional.empty();
    }

    /**
     * The CORS headers for a response: none unless origins are configured and the request's {@code Origin} is one
     * of them (or {@code *} is configured). A preflight ({@code OPTIONS} with
     * {@code Access-Control-Request-Method}) also gets the allowed methods, the requested headers and a max-age.
     */
    public Map<String, String> corsHeaders(String method, Function<String, String> header) {
        String origin = header.apply("Origin");
        if (origin == null || !originAllowed(origin)) {
            return Map.of();
        }
        Map<String, String> h = new LinkedHashMap<>();
        if (anyOrigin) {
            h.put("Access-Control-Allow-Origin", "*");
        } else {
            h.put("Access-Control-Allow-Origin", origin.trim());
            h.put("Vary", "Origin");
        }
        if (!exposedHeaders.isEmpty()) {
            h.put("Access-Control-Expose-Headers", exposedHeaders);
        }
        if (isPreflight(method, header)) {
            h.put("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
            String requested = trim(header.apply("Access-Control-Request-Headers"));
            h.put("Access-Control-Allow-Headers", requested == null || requested.isEmpty()
                    ? "Authorization, Content-Type, x-api-key, x-request-id, Accept" : requested);
            h.put("Access-Control-Max-Age", "600");
        }
        return h;
    }

    /** Whether the request is a CORS preflight ({@code OPTIONS} with {@code Access-Control-Request-Method}). */
    public static boolean isPreflight(String method, Function<String, String> header) {
        return "OPTIONS".equalsIgnoreCase(method) && header.apply("Access-Control-Request-Method") != null;
    }

    /** Whether any origin is configured (CORS headers may be sent at all). */
    public boolean corsEnabled() {
        return !allowedOrigins.isEmpty();
    }

    /** Whether a {@code Host} header value is allowed. */
    public boolean hostAllowed(String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank() || anyHost) {
            return true;
        }
        String h = hostOf(hostHeader);
        if (h == null) {
            return false;
        }
        if (IPV4.matcher(h).matches() || IPV6.matcher(h).matches()
                || h.equals("localhost") || h.endsWith(".localhost") || h.equals(listenHost)) {
            return true;
        }
        for (String a : allowedHosts) {
            if (a.equals(h) || a.startsWith("*.") && h.endsWith(a.substring(1)) && h.length() > a.length() - 1) {
                return true;
            }
        }
        return false;
    }

    /** Whether an {@code Origin} is in the configured list (or {@code *} is configured). */
    public boolean originAllowed(String origin) {
        if (anyOrigin) {
            return true;
        }
        return normaliseOrigin(origin).map(allowedOrigins::contains).orElse(false);
    }

    /** Whether {@code origin} has the host and port of the {@code Host} header. */
    static boolean sameOrigin(String origin, String hostHeader) {
        Optional<String> o = normaliseOrigin(origin);
        if (o.isEmpty() || hostHeader == null || hostHeader.isBlank()) {
            return false;
        }
        String scheme = o.get().substring(0, o.get().indexOf("://"));
        String h = hostOf(hostHeader);
        Integer port = portOf(hostHeader);
        if (h == null) {
            return false;
        }
        String expected = h + ":" + (port == null ? defaultPort(scheme) : port);
        String hostPort = o.get().substring(scheme.length() + 3);
        if (hostPort.lastIndexOf(':') <= hostPort.lastIndexOf(']')) {
            hostPort = hostPort + ":" + defaultPort(scheme);
        }
        return hostPort.equals(expected);
    }

    /**
     * An origin as {@code scheme://host[:port]} in lower case without the scheme's default port, or empty when it is
     * not an http(s) origin ({@code null}, a path, user info, a query ...).
     */
    static Optional<String> normaliseOrigin(String origin) {
        if (origin == null) {
            return Optional.empty();
        }
        String s = origin.trim();
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            URI u = new URI(s);
            String scheme = u.getScheme() == null ? null : u.getScheme().toLowerCase(Locale.ROOT);
            if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null
                    || u.getRawUserInfo() != null || !(u.getRawPath() == null || u.getRawPath().isEmpty())
                    || u.getRawQuery() != null || u.getRawFragment() != null) {
                return Optional.empty();
            }
            String host = normaliseHostName(u.getHost());
            int port = u.getPort();
            return Optional.of(scheme + "://" + host + (port < 0 || port == defaultPort(scheme) ? "" : ":" + port));
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }

    /** The host part of a {@code Host} value, lower case, without port and trailing dot; {@code null} if invalid. */
    static String hostOf(String hostHeader) {
        String s = hostHeader.trim().toLowerCase(Locale.ROOT);
        String host;
        if (s.startsWith("[")) {
            int end = s.indexOf(']');
            if (end < 0) {
                return null;
            }
            host = s.substring(0, end + 1);
            String rest = s.substring(end + 1);
            if (!rest.isEmpty() && !(rest.startsWith(":") && PORT.matcher(rest.substring(1)).matches())) {
                return null;
            }
        } else {
            int colon = s.indexOf(':');
            if (colon >= 0) {
                if (!PORT.matcher(s.substring(colon + 1)).matches()) {
                    return null; // also an unbracketed IPv6 address, which no browser sends
                }
                s = s.substring(0, colon);
            }
            host = normaliseHostName(s);
        }
        return host.isEmpty() ? null : host;
    }

    private static Integer portOf(String hostHeader) {
        String s = hostHeader.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0 || colon < s.lastIndexOf(']')) {
            return null;
        }
        try {
            return Integer.valueOf(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String normaliseHostName(String h) {
        String s = h.trim().toLowerCase(Locale.ROOT);
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static int defaultPort(String scheme) {
        return scheme.equals("https") ? 443 : 80;
    }

    private static boolean hasBody(Function<String, String> header) {
        String te = header.apply("Transfer-Encoding");
        if (te != null && !te.isBlank()) {
            return true;
        }
        String cl = trim(header.apply("Content-Length"));
        return cl != null && !cl.isEmpty() && !cl.chars().allMatch(c -> c == '0');
    }

    /** Whether a Content-Type value names JSON ({@code application/json}, {@code application/*+json}). */
    public static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mt = mediaType(contentType);
        return mt.equals("application/json") || mt.startsWith("application/") && mt.endsWith("+json");
    }

    private static String mediaType(String contentType) {
        return contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    }

    private static String trim(String s) {
        return s == null ? null : s.trim();
    }

    /** A header value fit to quote in an error message: printable ASCII only, bounded length. */
    private static String echo(String v) {
        if (v == null) {
            return "";
        }
        String s = v.chars().map(c -> c >= 0x20 && c < 0x7f ? c : '?')
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return s.length() > MAX_ECHO ? s.substring(0, MAX_ECHO) + "..." : s;
    }
}
