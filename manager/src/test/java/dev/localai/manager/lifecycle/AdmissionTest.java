package dev.localai.manager.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.manager.error.ManagerErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admission rules as pure decisions over model records. */
class AdmissionTest {
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    AdmissionTest() {
        ManagerConfig c = new ConfigLoader(n -> null).parse("""
            {"version": 2, "models": {
              "tts":    {"container": "tts", "port": 1, "type": "tts", "keep_warm": true, "vram_mb": 2000},
              "qwen":   {"container": "qwen", "port": 2, "vram_mb": 14000, "exclusive_groups": ["llm"], "keep_warm": true},
              "llama":  {"container": "llama", "port": 3, "vram_mb": 12000, "exclusive_groups": ["llm"]},
              "image":  {"container": "image", "port": 4, "type": "image", "vram_mb": 8000, "priority": 5},
              "stt":    {"container": "stt", "port": 5, "type": "stt", "vram_mb": 3000},
              "embed":  {"container": "embed", "port": 6, "type": "embedding", "vram_mb": 3000},
              "cpu":    {"container": "cpu", "port": 7, "gpu": false, "vram_mb": 99999}
            }}""");
        c.models().values().forEach(m -> slots.put(m.id(), new Slot(m)));
    }

    private Slot s(String id, ModelState state) {
        return s(id, state, 0);
    }

    /** Drives the slot to {@code state} through its own transitions. */
    private Slot s(String id, ModelState state, long lastUsedMillis) {
        Slot x = slots.get(id);
        switch (state) {
            case STARTING -> x.toStarting("test", 0);
            case READY -> x.toReady(x.toStarting("test", 0), lastUsedMillis);
            case STOPPING -> x.toStopping("test", null);
            case STOPPED -> {
                if (x.state().active()) x.stopFinished(x.toStopping("test", null), null, null, 0);
            }
            default -> throw new IllegalArgumentException(state.name());
        }
        return x;
    }

    private Admission.Plan plan(String id, long budget) {
        return Admission.plan(slots.get(id), slots.values(), budget, false);
    }

    @Test
    void cpuModelsAndFreeRoomStartAtOnce() {
        s("tts", ModelState.READY);
        assertThat(plan("cpu", 1000).startNow()).isTrue();
        assertThat(plan("llama", 0).startNow()).as("unlimited budget").isTrue();
        assertThat(plan("llama", 24000).startNow()).isTrue();
    }

    @Test
    void aModelSharingAnExclusiveGroupIsEvictedEvenWhenKeepWarm() {
        s("tts", ModelState.READY);
        s("qwen", ModelState.READY);
        Admission.Plan p = plan("llama", 0);
        assertThat(p.evict()).extracting(x -> x.spec.id()).containsExactly("qwen");
        assertThat(p.mustWait()).isFalse();
    }

    @Test
    void aGroupMemberThatIsStartingOrStoppingMeansWait() {
        s("qwen", ModelState.STARTING);
        assertThat(plan("llama", 0).mustWait()).isTrue();
        s("qwen", ModelState.STOPPING);
        assertThat(plan("llama", 0).mustWait()).isTrue();
        assertThat(plan("llama", 0).evict()).isEmpty();
    }

    @Test
    void budgetEvictionTakesIdleLowPriorityLeastRecentlyUsedNonKeepWarmModelsFirst() {
        s("tts", ModelState.READY);
        s("image", ModelState.READY, 10);
        s("stt", ModelState.READY, 30);
        s("embed", ModelState.READY, 20);
        // resident 2000 + 8000 + 3000 + 3000 = 16000; llama needs 12000 of 20000: free 8000 -> two 3000s are not enough
        Admission.Plan p = plan("llama", 20000);
        assertThat(p.evict()).extracting(x -> x.spec.id()).containsExactly("embed", "stt", "image");

        // a busy model goes last: the idle ones are taken first
        s("embed", ModelState.READY, 20).grant(l -> { });
        p = plan("llama", 21000);
        assertThat(p.evict()).extracting(x -> x.spec.id()).containsExactly("stt", "image");
    }

    @Test
    void keepWarmResidentsAreNotEvictedForTheBudget() {
        s("tts", ModelState.READY);
        s("qwen", ModelState.READY);
        assertThatThrownBy(() -> plan("stt", 17000)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(ManagerErrors.code(e)).isEqualTo("insufficient_vram");
            assertThat(e.getMessage()).contains("needs 3000 MiB", "tts (2000 MiB)", "qwen (14000 MiB)");
        });
        assertThat(Admission.plan(slots.get("stt"), slots.values(), 17000, true).evict())
                .as("unless allowed").extracting(x -> x.spec.id()).containsExactly("tts");
    }

    @Test
    void memoryThatIsBeingFreedMeansWaitNotRefuse() {
        s("tts", ModelState.READY);
        s("image", ModelState.STOPPING);
        Admission.Plan p = plan("llama", 14000);
        assertThat(p.mustWait()).isTrue();
        assertThat(p.evict()).isEmpty();
    }

    @Test
    void aKeepWarmStartYieldsToAWaitingRequestThatNeedsItsGroupOrMemory() {
        s("qwen", ModelState.STOPPED);
        s("llama", ModelState.STOPPED).join();
        assertThat(Admission.blockedByWaiters(slots.get("qwen"), slots.values(), 0)).isTrue();
        assertThat(Admission.blockedByWaiters(slots.get("tts"), slots.values(), 0)).isFalse();
        assertThat(Admission.blockedByWaiters(slots.get("tts"), slots.values(), 13000)).as("no room for both").isTrue();
    }
}
