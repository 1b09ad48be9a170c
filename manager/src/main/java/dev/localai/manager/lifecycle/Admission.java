package dev.localai.manager.lifecycle;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.tts.api.ApiException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * VRAM-aware admission, as pure decisions over the models' current records (no effects, no clock): what must be
 * evicted before a GPU model may start, whether it must wait, or why it can never fit. Called under the
 * {@link ModelManager}'s lock.
 *
 * <p>Rules: running models sharing an exclusive group with the target are evicted (busy ones are drained, never
 * killed); when the declared VRAM of the residents plus the target exceeds the budget, idle-first, lowest-priority,
 * least-recently-used non-keep-warm models are evicted; if even that cannot make room, {@code insufficient_vram}.
 */
final class Admission {
    private Admission() {}

    /**
     * The plan for starting a model.
     *
     * @param evict    models to stop (or drain) first
     * @param mustWait a conflicting model is starting or stopping, or room appears only once stops finish
     */
    record Plan(Set<Slot> evict, boolean mustWait) {
        /** The target may start right now. */
        boolean startNow() {
            return evict.isEmpty() && !mustWait;
        }
    }

    /**
     * Plans the start of {@code target}.
     *
     * @param budgetMb VRAM budget in MiB; 0 = unlimited
     * @throws ApiException 503 {@code insufficient_vram} when the budget cannot be met
     */
    static Plan plan(Slot target, Collection<Slot> all, long budgetMb, boolean allowEvictKeepWarm) {
        if (!target.spec.gpu()) return new Plan(Set.of(), false);
        Set<Slot> evict = new LinkedHashSet<>();
        boolean mustWait = false;
        for (Slot o : all) {
            if (o == target || !o.spec.gpu() || !o.state().active() || !o.spec.sharesGroupWith(target.spec)) continue;
            if (o.state() == ModelState.STOPPING || o.state() == ModelState.STARTING) mustWait = true;
            else evict.add(o);
        }
        if (budgetMb > 0) {
            long used = 0;
            for (Slot o : all) if (o != target && o.state().active() && !evict.contains(o)) used += o.vram();
            long need = used + target.vram();
            if (need > budgetMb) {
                List<Slot> candidates = new ArrayList<>();
                for (Slot o : all) {
                    if (o == target || evict.contains(o) || !o.spec.gpu() || o.vram() == 0) continue;
                    if (o.state() != ModelState.READY && o.state() != ModelState.DRAINING) continue;
                    if (o.spec.keepWarm() && !allowEvictKeepWarm) continue;
                    candidates.add(o);
                }
                candidates.sort(Comparator.<Slot>comparingInt(o -> o.inflight() > 0 ? 1 : 0)
                        .thenComparingInt(o -> o.spec.priority()).thenComparingLong(o -> o.lastUsedMillis()));
                for (Slot c : candidates) {
                    if (need <= budgetMb) break;
                    evict.add(c);
                    need -= c.vram();
                }
                if (need > budgetMb) {
                    // models already stopping free their memory soon; otherwise the target can never fit
                    long freeing = 0;
                    for (Slot o : all) if (o != target && o.state() == ModelState.STOPPING) freeing += o.vram();
                    if (need - freeing > budgetMb) throw insufficient(target, all, budgetMb, used);
                    mustWait = true;
                }
            }
        }
        return new Plan(evict, mustWait);
    }

    private static ApiException insufficient(Slot target, Collection<Slot> all, long budgetMb, long used) {
        List<String> resident = new ArrayList<>();
        for (Slot o : all) if (o.state().active() && o.vram() > 0) resident.add(o.spec.id() + " (" + o.vram() + " MiB)");
        return error(503, "insufficient_vram", "Model '" + target.spec.id() + "' needs " + target.vram()
                + " MiB but only " + Math.max(0, budgetMb - used) + " MiB of the " + budgetMb
                + " MiB budget can be freed; resident: " + String.join(", ", resident), 30);
    }

    /**
     * Whether starting keep-warm model {@code s} now would take the group or the memory that a waiting request
     * for another model needs (the waiter goes first; the keep-warm model is re-warmed afterwards).
     */
    static boolean blockedByWaiters(Slot s, Collection<Slot> all, long budgetMb) {
        for (Slot o : all) {
            if (o == s || o.waiting() == 0 || !o.spec.gpu() || o.state() == ModelState.READY) continue;
            if (o.spec.sharesGroupWith(s.spec)) return true;
            if (budgetMb > 0) {
                long used = 0;
                for (Slot x : all) if (x.state().active()) used += x.vram();
                if (used + s.vram() + o.vram() > budgetMb) return true;
            }
        }
        return false;
    }
}
