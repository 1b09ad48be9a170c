package dev.localai.manager.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * One managed model: a pre-created container that publishes an OpenAI-compatible server on a port.
 *
 * @param id            the model ID clients send in {@code model}
 * @param container     name of the pre-created container ({@code docker start}/{@code stop})
 * @param upstream      base URL of the container's server (default {@code http://127.0.0.1:PORT})
 * @param idleTimeout   idle stop after the end of the last request; {@link Duration#ZERO} = never
 * @param fallback      ordered fallback targets: model IDs or remote base URLs
 */
public record ModelSpec(
        String id,
        String container,
        int port,
        URI upstream,
        ModelType type,
        boolean keepWarm,
        List<String> aliases,
        boolean unlisted,
        String upstreamModel,
        long vramMb,
        boolean gpu,
        List<String> exclusiveGroups,
        int priority,
        Duration idleTimeout,
        Duration startTimeout,
        Duration stopTimeout,
        String healthPath,
        int healthExpect,
        int maxConcurrency,
        int maxQueue,
        Duration queueTimeout,
        Liveness liveness,
        Restart restart,
        List<String> fallback) {

    public ModelSpec {
        aliases = List.copyOf(aliases);
        exclusiveGroups = List.copyOf(exclusiveGroups);
        fallback = List.copyOf(fallback);
    }

    /** Liveness probing of a READY model. */
    public record Liveness(Duration interval, Duration timeout, int failureThreshold) {}

    /** Restart/backoff policy after a failed start or a crash. */
    public record Restart(boolean onFailure, Duration backoffInitial, Duration backoffMax) {}

    public boolean sharesGroupWith(ModelSpec other) {
        for (String g : exclusiveGroups) {
            if (other.exclusiveGroups.contains(g)) return true;
        }
        return false;
    }

    /** Backoff after the n-th consecutive failure (n >= 1): initial * 2^(n-1), capped. */
    public Duration backoff(int failures) {
        long initial = restart.backoffInitial().toMillis();
        long max = restart.backoffMax().toMillis();
        long b = initial;
        for (int i = 1; i < failures && b < max; i++) b *= 2;
        return Duration.ofMillis(Math.min(b, max));
    }
}
