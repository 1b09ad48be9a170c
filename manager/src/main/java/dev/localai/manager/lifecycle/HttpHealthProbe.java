package dev.localai.manager.lifecycle;

import dev.localai.manager.config.ModelSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GET {@code upstream + health_path}; healthy when the status matches {@code health_expect} (any 2xx for 200). */
public final class HttpHealthProbe implements HealthProbe {
    private final HttpClient client;

    public HttpHealthProbe(HttpClient client) {
        this.client = client;
    }

    @Override
    public boolean healthy(ModelSpec model, Duration timeout) {
        return check(client, URI.create(model.upstream() + model.healthPath()), model.healthExpect(), timeout);
    }

    public static boolean check(HttpClient client, URI uri, int expect, Duration timeout) {
        try {
            HttpResponse<Void> r = client.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            int s = r.statusCode();
            return expect == 200 ? s >= 200 && s < 300 : s == expect;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }
}
