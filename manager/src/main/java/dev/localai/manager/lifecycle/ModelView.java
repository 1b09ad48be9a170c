package dev.localai.manager.lifecycle;

import dev.localai.manager.config.ModelSpec;

/**
 * A consistent snapshot of one model, taken under the manager's lock.
 *
 * @param lastUsedMillis     end of the last request (idle time counts from here), on the manager's clock
 * @param backoffUntilMillis when a failed model may be started again, on the manager's clock
 * @param startedMillis      when the current (or last) start began, on the manager's clock
 */
public record ModelView(ModelSpec spec, ModelState state, int inflight, int waiting, long lastUsedMillis,
                        long readySinceMillis, String lastError, String reason, int starts, int crashes,
                        long backoffUntilMillis, long startedMillis) {}
