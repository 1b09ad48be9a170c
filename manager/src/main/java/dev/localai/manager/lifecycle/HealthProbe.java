package dev.localai.manager.lifecycle;

import dev.localai.manager.config.ModelSpec;
import java.time.Duration;

/** Checks a model container's HTTP health endpoint. */
@FunctionalInterface
public interface HealthProbe {
    boolean healthy(ModelSpec model, Duration timeout);
}
