package dev.localai.tts.server.web;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Serves the playground: files of the classpath folder {@code web/} at {@code /} ({@code index.html} for
 * {@code /} and for directories). Only plain relative names are looked up (no {@code ..}, no backslashes, no
 * encoded separators, no dot-files), so nothing outside the folder can be reached.
 */
public final class StaticFiles implements HttpService {
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"), Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"), Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"), Map.entry("json", "application/json"),
            Map.entry("svg", "image/svg+xml"), Map.entry("png", "image/png"), Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"), Map.entry("gif", "image/gif"), Map.entry("webp", "image/webp"),
            Map.entry("ico", "image/x-icon"), Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("wasm", "application/wasm"), Map.entry("woff2", "font/woff2"), Map.entry("woff", "font/woff"),
            Map.entry("map", "application/json"), Map.entry("wav", "audio/wav"), Map.entry("mp3", "audio/mpeg"));

    private final String root;
    private final ClassLoader loader;

    /** @param root the classpath folder, e.g. {@code web} */
    public StaticFiles(String root) {
        this.root = root;
        this.loader = StaticFiles.class.getClassLoader();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.route(Method.GET, "/*", this::serve).route(Method.HEAD, "/*", this::serve);
    }

    private void serve(ServerRequest req, ServerResponse res) {
        String raw = req.path().rawPath();
        if (raw.startsWith("/v1/") || raw.equals("/v1")) {
            res.next();
            return;
        }
        String name = resolve(raw);
        if (name != null && name.indexOf('.') < 0) {
            name = name + "/index.html"; // an extension-less name is a folder: its index
        }
        URL url = name == null ? null : loader.getResource(root + "/" + name);
        if (url == null) {
            res.next();
            return;
        }
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            // a directory entry that is not a file
            res.next();
            return;
        }
        String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        res.header(HeaderNames.CONTENT_TYPE, TYPES.getOrDefault(ext, "application/octet-stream"));
        res.header("X-Content-Type-Options", "nosniff");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        if (req.prologue().method() == Method.HEAD) {
            res.header(HeaderNames.CONTENT_LENGTH, Integer.toString(bytes.length));
            res.send();
        } else {
            res.send(bytes);
        }
    }

    /** The folder-relative name for a raw request path, or {@code null} when it is not a plain one. */
    static String resolve(String rawPath) {
        if (rawPath.equals("/") || rawPath.isEmpty()) {
            return "index.html";
        }
        if (rawPath.contains("%") || rawPath.contains("\\") || rawPath.contains("//")) {
            return null;
        }
        String p = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
        if (p.endsWith("/")) {
            p = p + "index.html";
        }
        for (String seg : p.split("/")) {
            if (!SEGMENT.matcher(seg).matches() || seg.contains("..")) {
                return null;
            }
        }
        return p;
    }
}
