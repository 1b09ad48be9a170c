package dev.localai.manager.testing;

import dev.localai.manager.api.ManagerServer;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.lifecycle.HttpHealthProbe;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.observe.EventBus;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The whole manager over HTTP on loopback: fake runtime, one {@link FakeUpstream} per container, the real
 * health probe, proxy and web server. The config template names ports as {@code PORT(container)}.
 */
public final class Stack implements AutoCloseable {
    public final FakeRuntime runtime = new FakeRuntime();
    public final Map<String, FakeUpstream> upstreams = new LinkedHashMap<>();
    public final ManagerConfig config;
    public final ModelManager manager;
    public final ManagerServer server;
    public final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final HttpClient upstreamClient;

    public Stack(String template, Path stateFile, String... containers) throws IOException {
        this(InstantSource.system(), template, stateFile, containers);
    }

    /** With the manager's clock (idle timeouts, backoff) under the test's control; the tick is the test's too. */
    public Stack(InstantSource clock, String template, Path stateFile, String... containers) throws IOException {
        String json = template;
        for (String c : containers) {
            runtime.add(c);
            FakeUpstream u = new FakeUpstream(() -> runtime.isRunning(c));
            upstreams.put(c, u);
            json = json.replace("PORT(" + c + ")", Integer.toString(u.port()));
        }
        config = new ConfigLoader(n -> null).parse(json);
        upstreamClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        manager = new ModelManager(config, runtime, new HttpHealthProbe(upstreamClient), GpuProbe.none(),
                new StateStore(stateFile), new EventBus(), new Metrics(),
                new ModelManager.Options(Duration.ofMillis(5), Duration.ZERO, false, clock));
        manager.boot();
        server = new ManagerServer(manager, upstreamClient).start("127.0.0.1:0");
    }

    public FakeUpstream upstream(String container) {
        return upstreams.get(container);
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + server.port() + pathAndQuery);
    }

    public HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20));
    }

    public HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = request(path).GET();
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String path, String json, String... headers) throws Exception {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json")
                .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<InputStream> postStream(String path, String json) throws Exception {
        return http.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    public void await(String id, ModelState state) {
        if (!manager.awaitCondition(vs -> vs.stream().anyMatch(v -> v.spec().id().equals(id) && v.state() == state),
                Duration.ofSeconds(10)))
            throw new AssertionError(id + " did not reach " + state + " (now " + manager.view(id).state() + ")");
    }

    /** Reads exactly {@code n} bytes (or fewer at the end of the stream). */
    public static String read(InputStream in, int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.close();
        manager.close();
        upstreams.values().forEach(FakeUpstream::close);
    }
}
