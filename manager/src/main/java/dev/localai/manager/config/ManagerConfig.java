package dev.localai.manager.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The whole validated configuration (both models.json forms end up here). */
public record ManagerConfig(
        int version,
        Server server,
        Auth auth,
        Docker docker,
        Gpu gpu,
        Gaming gaming,
        Map<String, ModelSpec> models,
        Map<String, Remote> remotes,
        List<String> warnings) {

    public ManagerConfig {
        models = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(models));
        remotes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(remotes));
        warnings = List.copyOf(warnings);
    }

    /**
     * The listening side.
     *
     * @param upstreamResponseTimeout longest wait for a model's response headers (not for the streamed body)
     */
    /**
     * The HTTP side.
     *
     * @param allowedHosts   names allowed in {@code Host} besides IP literals, localhost and the listen host
     *                       (DNS-rebinding defence; {@code *} = any)
     * @param allowedOrigins browser origins allowed to change state and to get CORS headers ({@code *} = any)
     */
    public record Server(String listen, long maxRequestBodyBytes, boolean allowInsecure, Duration upstreamConnectTimeout,
                         Duration upstreamResponseTimeout, List<String> allowedHosts, List<String> allowedOrigins) {}

    public record Auth(List<String> apiKeys, List<String> adminKeys) {
        public Auth {
            apiKeys = List.copyOf(apiKeys);
            adminKeys = List.copyOf(adminKeys);
        }

        public boolean enabled() {
            return !apiKeys.isEmpty() || !adminKeys.isEmpty();
        }
    }

    public record Docker(String binary, Duration commandTimeout, Map<String, String> env) {
        public Docker {
            env = Map.copyOf(env);
        }
    }

    /** {@code vramBudgetMb} 0 = unlimited; -1 = auto (nvidia-smi total minus reserve). */
    public record Gpu(long vramBudgetMb, long reserveMb, String probe) {}

    public record Gaming(Path stateFile, Duration drainTimeout, long vramFreeTargetMb, Duration vramWait) {}

    /** A remote fallback target (another host or manager) with its health path. */
    public record Remote(String name, URI url, String healthPath, Duration probeInterval, int failureThreshold) {}

    /** Resolves an ID or alias to the model spec. */
    public Optional<ModelSpec> resolve(String nameOrAlias) {
        if (nameOrAlias == null) return Optional.empty();
        ModelSpec direct = models.get(nameOrAlias);
        if (direct != null) return Optional.of(direct);
        for (ModelSpec m : models.values()) {
            if (m.aliases().contains(nameOrAlias)) return Optional.of(m);
        }
        return Optional.empty();
    }

    /**
     * The model that serves a type when a request names none (the design's dashboard posts {@code {"input": ...}}
     * to {@code /v1/audio/speech}): the only model of that type, else the keep-warm one of highest priority, else the
     * first of highest priority in declaration order. Empty when no model has the type.
     */
    public Optional<ModelSpec> defaultFor(ModelType type) {
        ModelSpec best = null;
        for (ModelSpec m : models.values()) {
            if (m.type() != type) continue;
            if (best == null
                    || (m.keepWarm() && !best.keepWarm())
                    || (m.keepWarm() == best.keepWarm() && m.priority() > best.priority())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Keep-warm models in priority order (highest priority first, then declaration order). */
    public List<ModelSpec> keepWarmInPriorityOrder() {
        List<ModelSpec> out = new ArrayList<>();
        for (ModelSpec m : models.values()) if (m.keepWarm()) out.add(m);
        out.sort(Comparator.comparingInt(ModelSpec::priority).reversed());
        return out;
    }
}
