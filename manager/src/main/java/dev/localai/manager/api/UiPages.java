package dev.localai.manager.api;

import static dev.localai.manager.error.ManagerErrors.error;

import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The home-lab page ({@code /ui}): three static files from the classpath, no build toolchain. Only the listed
 * names are served (no path lookups). The page carries no data; it calls the API with the key the user enters.
 */
final class UiPages {
    private static final String BASE = "/dev/localai/manager/ui/";
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8");

    private UiPages() {}

    static void register(HttpRouting.Builder r) {
        r.get("/ui", (req, res) -> send(res, "index.html"));
        r.get("/ui/", (req, res) -> send(res, "index.html"));
        r.get("/ui/{file}", UiPages::file);
    }

    private static void file(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("file");
        if (!FILES.containsKey(name)) {
            Json.error(res, error(404, "not_found", "No such page: " + name));
            return;
        }
        send(res, name);
    }

    private static void send(ServerResponse res, String name) {
        try (InputStream in = UiPages.class.getResourceAsStream(BASE + name)) {
            if (in == null) throw error(500, "internal_error", "UI resource missing from the jar: " + name);
            res.header("Content-Type", FILES.get(name));
            res.header("Cache-Control", "no-cache");
            res.header("X-Content-Type-Options", "nosniff");
            res.send(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
