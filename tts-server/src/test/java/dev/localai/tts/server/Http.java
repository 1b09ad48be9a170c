package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small JDK HttpClient wrapper for the tests. */
final class Http {
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private final String base;
    private final boolean freshConnections;

    Http(TtsServer server) {
        this(server, false);
    }

    /**
     * @param freshConnections a new connection for every request: for servers with an idle timeout shorter than
     *                         the client's keep-alive, where a pooled connection may already be closed
     */
    Http(TtsServer server, boolean freshConnections) {
        this.base = "http://127.0.0.1:" + server.port();
        this.freshConnections = freshConnections;
    }

    URI uri(String path) {
        return URI.create(base + path);
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofMinutes(2));
    }

    HttpResponse<byte[]> send(HttpRequest r) {
        if (freshConnections) {
            try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build()) {
                return c.send(r, HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        try {
            return CLIENT.send(r, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<byte[]> get(String path) {
        return send(request(path).GET().build());
    }

    HttpResponse<byte[]> postJson(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    HttpResponse<byte[]> speech(String json) {
        return postJson("/v1/audio/speech", json);
    }

    static JsonNode json(HttpResponse<byte[]> r) {
        try {
            return Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + new String(r.body()), e);
        }
    }

    /** Asserts the OpenAI error envelope with all four keys and returns its error object. */
    static JsonNode error(HttpResponse<byte[]> r, int status) {
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("application/json"));
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
        JsonNode n = json(r);
        assertThat(n.fieldNames()).toIterable().containsExactly("error");
        JsonNode e = n.get("error");
        assertThat(e.fieldNames()).toIterable().containsExactlyInAnyOrder("message", "type", "param", "code");
        assertThat(e.get("message").asText()).isNotBlank();
        return e;
    }
}
