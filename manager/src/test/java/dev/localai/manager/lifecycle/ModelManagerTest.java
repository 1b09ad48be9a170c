package dev.localai.manager.lifecycle;

import static dev.localai.manager.lifecycle.ModelState.DRAINING;
import static dev.localai.manager.lifecycle.ModelState.FAILED;
import static dev.localai.manager.lifecycle.ModelState.READY;
import static dev.localai.manager.lifecycle.ModelState.STARTING;
import static dev.localai.manager.lifecycle.ModelState.STOPPED;
import static dev.localai.manager.lifecycle.ModelState.STOPPING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.manager.error.ManagerErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.manager.testing.FakeRuntime;
import dev.localai.manager.testing.Rig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lifecycle owner against a recording fake runtime, a scripted health probe and a manual clock. */
class ModelManagerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    /** tts + qwen keep-warm; llama and image on demand (one LLM at a time); whisper and a CPU TTS. */
    static String config(String budget, String drain, String extraModels) {
        return """
            {"version": 2,
             "gpu": {"vram_budget_mb": %s, "probe": "none"},
             "gaming_mode": {"drain_timeout_s": %s, "vram_wait_s": 0.1},
             "defaults": {"start_timeout_s": 5, "stop_timeout_s": 1, "idle_timeout_s": 60, "queue_timeout_s": 10,
                          "liveness": {"interval_s": 10, "timeout_s": 1, "failure_threshold": 2},
                          "restart": {"on_failure": true, "backoff_initial_s": 10, "backoff_max_s": 40}},
             "models": {
               "tts":   {"container": "tts", "port": 18006, "type": "tts", "keep_warm": true, "vram_mb": 1800, "priority": 100},
               "qwen":  {"container": "qwen", "port": 18002, "type": "text", "keep_warm": true, "vram_mb": 14000,
                         "exclusive_groups": ["llm"], "priority": 50},
               "llama": {"container": "llama", "port": 18001, "type": "text", "vram_mb": 12000, "exclusive_groups": ["llm"]},
               "whisper": {"container": "whisper", "port": 18007, "type": "stt", "vram_mb": 4000},
               "tts-cpu": {"container": "tts-cpu", "port": 18016, "type": "tts", "gpu": false}%s
             }}
            """.formatted(budget, drain, extraModels);
    }

    /** Only on-demand models (nothing starts at boot). */
    static String onDemand(String llamaExtra) {
        return """
            {"version": 2,
             "gpu": {"vram_budget_mb": 24000, "probe": "none"},
             "gaming_mode": {"drain_timeout_s": 0.3, "vram_wait_s": 0.1},
             "defaults": {"start_timeout_s": 5, "stop_timeout_s": 1, "idle_timeout_s": 60, "queue_timeout_s": 10,
                          "restart": {"backoff_initial_s": 10, "backoff_max_s": 40}},
             "models": {
               "llama": {"container": "llama", "port": 18001, "type": "text", "vram_mb": 12000 %s},
               "tts-cpu": {"container": "tts-cpu", "port": 18016, "type": "tts", "gpu": false}
             }}
            """.formatted(llamaExtra);
    }

    private static FakeRuntime all() {
        return new FakeRuntime().add("tts", "qwen", "llama", "whisper", "tts-cpu");
    }

    private static ApiException apiError(Throwable t) {
        Throwable c = t;
        while (c != null && !(c instanceof ApiException)) c = c.getCause();
        assertThat(c).as("an ApiException in " + t).isNotNull();
        return (ApiException) c;
    }

    @Test
    void hundredConcurrentRequestsToAStoppedModelCauseExactlyOneStart() throws Exception {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch health = rig.holdHealth();
            List<Future<String>> fs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                fs.add(ex.submit(() -> {
                    try (Lease l = rig.manager.acquire("llama", WAIT)) {
                        return l.model();
                    }
                }));
            }
            rig.awaitWaiting("llama", 100);
            assertThat(rig.state("llama")).isEqualTo(STARTING);
            health.countDown();
            for (Future<String> f : fs) assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("llama");
            assertThat(rig.runtime.count("start", "llama")).isEqualTo(1);
            assertThat(rig.state("llama")).isEqualTo(READY);
            assertThat(rig.manager.view("llama").inflight()).isZero();
        }
    }

    @Test
    void startTimeoutStopsTheContainerAnswers504AndBacksOff() {
        try (Rig rig = new Rig(onDemand(", \"start_timeout_s\": 0.2"), all(), null).boot()) {
            rig.neverHealthy.add("llama");
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(504);
                assertThat(ManagerErrors.code(e)).isEqualTo("model_start_timeout");
            });
            rig.await("llama", FAILED);
            assertThat(rig.runtime.startsAndStops()).containsExactly("start llama", "stop llama");
            assertThat(rig.runtime.isRunning("llama")).isFalse();

            // inside the backoff window: refused at once, no new start
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(ManagerErrors.code(e)).isEqualTo("model_unavailable");
                assertThat(ManagerErrors.retryAfterSeconds(e)).isBetween(1L, 10L);
            });
            assertThat(rig.runtime.count("start", "llama")).isEqualTo(1);

            // after it: a new start, which succeeds now
            rig.neverHealthy.clear();
            rig.clock.advance(Duration.ofSeconds(11));
            try (Lease l = rig.manager.acquire("llama", WAIT)) {
                assertThat(l.model()).isEqualTo("llama");
            }
            assertThat(rig.runtime.count("start", "llama")).isEqualTo(2);
        }
    }

    @Test
    void containerExitDuringStartFailsWaitersWithExitCodeAndLogTail() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.runtime.dieOnStart("llama", 137, true);
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(ManagerErrors.code(e)).isEqualTo("model_start_failed");
                assertThat(e.getMessage()).contains("exit code 137", "OOM-killed", "GET /logs/llama");
                // the container's own log may hold secrets: only admins read it, through /logs
                assertThat(e.getMessage()).doesNotContain("CUDA out of memory");
                assertThat(ManagerErrors.retryAfterSeconds(e)).isPositive();
            });
            assertThat(rig.state("llama")).isEqualTo(FAILED);
            assertThat(rig.manager.view("llama").lastError()).contains("137");
        }
    }

    @Test
    void keepWarmModelIsBroughtBackAfterACrashAfterReady() {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            Lease l = rig.manager.acquire("tts", WAIT);
            AtomicBoolean cancelled = new AtomicBoolean();
            l.onCancel(() -> cancelled.set(true));

            rig.runtime.crash("tts", 139, false);
            rig.clock.advance(Duration.ofSeconds(10)); // liveness interval
            rig.tick();
            rig.await("tts", FAILED);
            assertThat(cancelled).as("the in-flight request on the dead container is cut").isTrue();
            assertThat(rig.manager.view("tts").crashes()).isEqualTo(1);
            assertThat(rig.manager.view("tts").lastError()).contains("exit code 139");
            assertThatThrownBy(() -> rig.manager.acquire("tts", WAIT))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(ManagerErrors.code(e)).isEqualTo("model_unavailable"));
            l.close();

            rig.clock.advance(Duration.ofSeconds(10)); // backoff
            rig.tick();
            rig.await("tts", READY);
            assertThat(rig.runtime.count("start", "tts")).isEqualTo(2);
            assertThat(rig.manager.view("tts").inflight()).isZero();
            assertThat(rig.metrics.counter("manager_container_crashes_total", "model=\"tts\"")).isEqualTo(1);
        }
    }

    @Test
    void idleTimerNeverFiresMidRequestAndCountsFromTheEndOfTheLastRequest() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            Lease l = rig.manager.acquire("llama", WAIT);
            rig.clock.advance(Duration.ofSeconds(600)); // a long stream: ten idle timeouts
            rig.tick();
            assertThat(rig.state("llama")).isEqualTo(READY);
            l.close();
            rig.tick();
            assertThat(rig.state("llama")).as("idle time starts at the end of the request").isEqualTo(READY);
            rig.clock.advance(Duration.ofSeconds(59));
            rig.tick();
            assertThat(rig.state("llama")).isEqualTo(READY);
            rig.clock.advance(Duration.ofSeconds(2));
            rig.tick();
            rig.await("llama", STOPPED);
            assertThat(rig.runtime.isRunning("llama")).isFalse();
            assertThat(rig.metrics.counter("manager_model_stops_total", "model=\"llama\",reason=\"idle\"")).isEqualTo(1);
        }
    }

    @Test
    void keepWarmModelsStartAtBootInPriorityOrderAndAreNeverIdleStopped() {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            assertThat(rig.runtime.startsAndStops()).containsExactly("start tts", "start qwen");
            rig.clock.advance(Duration.ofHours(5));
            rig.runtime.crash("none", 0, false); // unrelated
            rig.tick();
            assertThat(rig.state("tts")).isEqualTo(READY);
            assertThat(rig.state("qwen")).isEqualTo(READY);
            assertThat(rig.runtime.startsAndStops()).containsExactly("start tts", "start qwen");
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
        }
    }

    @Test
    void gamingModeDuringAStartCancelsItAndRefusesNewGpuRequestsAtOnce() throws Exception {
        Path state = tmp.resolve("state.json");
        try (Rig rig = new Rig(onDemand(""), all(), state).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch health = rig.holdHealth(); // the start does not complete on its own
            Future<Lease> waiter = ex.submit(() -> rig.manager.acquire("llama", WAIT));
            rig.awaitWaiting("llama", 1);
            assertThat(rig.state("llama")).isEqualTo(STARTING);

            GamingResult r = rig.manager.gamingOn(false, WAIT);
            assertThatThrownBy(() -> waiter.get(10, TimeUnit.SECONDS)).satisfies(t -> {
                ApiException e = apiError(t);
                assertThat(e.status()).isEqualTo(503);
                assertThat(ManagerErrors.code(e)).isEqualTo("gaming_mode_active");
            });
            assertThat(r.gamingMode()).isTrue();
            assertThat(r.safeToGame()).isTrue();
            assertThat(r.stoppedModels()).containsExactly("llama");
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            assertThat(rig.runtime.isRunning("llama")).isFalse();
            assertThat(rig.runtime.startsAndStops()).containsExactly("start llama", "stop llama");
            assertThat(Files.readString(state)).contains("\"gaming_mode\" : true");

            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(ManagerErrors.code(e)).isEqualTo("gaming_mode_active");
                assertThat(ManagerErrors.retryAfterSeconds(e)).isPositive();
            });
            assertThat(rig.runtime.count("start", "llama")).isEqualTo(1);
            // CPU models are not affected
            health.countDown();
            try (Lease l = rig.manager.acquire("tts-cpu", WAIT)) {
                assertThat(l.model()).isEqualTo("tts-cpu");
            }
            assertThat(rig.manager.safeToGame()).isTrue();
        }
    }

    @Test
    void gamingModeDuringAStreamCutsItAtTheDrainDeadline() throws Exception {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            Lease l = rig.manager.acquire("llama", WAIT);
            AtomicBoolean cut = new AtomicBoolean();
            l.onCancel(() -> cut.set(true));
            GamingResult r = rig.manager.gamingOn(false, WAIT); // drain_timeout_s 0.3
            assertThat(cut).isTrue();
            assertThat(r.safeToGame()).isTrue();
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            assertThat(rig.runtime.isRunning("llama")).isFalse();
            l.close(); // the proxy's close after the cut leaves the counters straight
            assertThat(rig.manager.view("llama").inflight()).isZero();
        }
    }

    @Test
    void gamingModeLetsAStreamThatEndsBeforeTheDeadlineFinish() throws Exception {
        try (Rig rig = new Rig(config("24000", "30", ""), all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            Lease l = rig.manager.acquire("qwen", WAIT);
            AtomicBoolean cut = new AtomicBoolean();
            l.onCancel(() -> cut.set(true));
            Future<GamingResult> on = ex.submit(() -> rig.manager.gamingOn(false, WAIT));
            rig.await("qwen", DRAINING);
            rig.await("tts", STOPPED); // idle: stopped at once
            assertThat(rig.runtime.isRunning("qwen")).as("busy work is not killed").isTrue();
            assertThatThrownBy(() -> rig.manager.acquire("qwen", WAIT))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(ManagerErrors.code(e)).isEqualTo("gaming_mode_active"));
            l.close();
            GamingResult r = on.get(10, TimeUnit.SECONDS);
            assertThat(cut).isFalse();
            assertThat(r.stoppedModels()).containsExactlyInAnyOrder("tts", "qwen");
            assertThat(r.safeToGame()).isTrue();
            assertThat(rig.runtime.isRunning("qwen")).isFalse();
            assertThat(rig.runtime.isRunning("tts")).isFalse();
        }
    }

    @Test
    void gamingModeOffRestartsKeepWarmModelsInPriorityOrderOnly() throws Exception {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            rig.manager.gamingOn(false, WAIT);
            int mark = rig.runtime.startsAndStops().size();
            rig.manager.gamingOff();
            rig.await("tts", READY);
            rig.await("qwen", READY);
            List<String> after = rig.runtime.startsAndStops();
            assertThat(after.subList(mark, after.size())).containsExactly("start tts", "start qwen");
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            assertThat(rig.manager.gaming()).isFalse();
            assertThat(rig.manager.safeToGame()).isFalse();
        }
    }

    @Test
    void aManagerRestartKeepsGamingModeAndStartsNothing() throws Exception {
        Path state = tmp.resolve("state.json");
        FakeRuntime runtime = all();
        try (Rig rig = new Rig(config("24000", "0.3", ""), runtime, state).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            rig.manager.gamingOn(false, WAIT);
        }
        runtime.addRunning("tts"); // somebody started it by hand during the game
        try (Rig rig = new Rig(config("24000", "0.3", ""), runtime, state).boot()) {
            assertThat(rig.manager.gaming()).isTrue();
            rig.await("tts", STOPPED);
            rig.tick();
            assertThat(rig.state("qwen")).isEqualTo(STOPPED);
            assertThat(runtime.isRunning("tts")).isFalse();
            assertThat(runtime.count("start", "tts")).isEqualTo(1);
            assertThat(runtime.count("start", "qwen")).isEqualTo(1);
            assertThat(rig.manager.safeToGame()).isTrue();

            rig.manager.gamingOff();
            rig.await("tts", READY);
            rig.await("qwen", READY);
        }
        try (Rig rig = new Rig(config("24000", "0.3", ""), runtime, state).boot()) {
            assertThat(rig.manager.gaming()).as("OFF is persisted too").isFalse();
        }
    }

    @Test
    void insufficientVramWithOnlyKeepWarmResidentsStopsNothing() {
        try (Rig rig = new Rig(config("16000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            assertThatThrownBy(() -> rig.manager.acquire("whisper", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(ManagerErrors.code(e)).isEqualTo("insufficient_vram");
                assertThat(e.getMessage()).contains("whisper", "4000 MiB", "qwen (14000 MiB)", "tts (1800 MiB)");
            });
            assertThat(rig.runtime.startsAndStops()).containsExactly("start tts", "start qwen");
        }
    }

    @Test
    void idleOnDemandModelIsEvictedForTheBudgetButABusyOneIsWaitedFor() throws Exception {
        String cfg = """
            {"version": 2, "gpu": {"vram_budget_mb": 16000, "probe": "none"},
             "defaults": {"queue_timeout_s": 10, "restart": {"backoff_initial_s": 10}},
             "models": {
               "tts":   {"container": "tts", "port": 18006, "type": "tts", "keep_warm": true, "vram_mb": 1800},
               "llama": {"container": "llama", "port": 18001, "type": "text", "vram_mb": 12000},
               "whisper": {"container": "whisper", "port": 18007, "type": "stt", "vram_mb": 4000}
             }}""";
        try (Rig rig = new Rig(cfg, all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            rig.await("tts", READY);
            // busy llama: whisper waits for it to finish, nothing is killed
            Lease busy = rig.manager.acquire("llama", WAIT);
            Future<String> w = ex.submit(() -> {
                try (Lease l = rig.manager.acquire("whisper", WAIT)) {
                    return l.model();
                }
            });
            rig.await("llama", DRAINING);
            rig.awaitWaiting("whisper", 1);
            assertThat(rig.runtime.isRunning("llama")).isTrue();
            assertThat(rig.runtime.count("stop", "llama")).isZero();
            busy.close();
            assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo("whisper");
            assertThat(rig.runtime.startsAndStops()).containsExactly("start tts", "start llama", "stop llama", "start whisper");

            // idle whisper is evicted at once for llama
            try (Lease l = rig.manager.acquire("llama", WAIT)) {
                assertThat(l.model()).isEqualTo("llama");
            }
            assertThat(rig.state("whisper")).isEqualTo(STOPPED);
            assertThat(rig.state("tts")).as("keep-warm TTS stays alongside").isEqualTo(READY);
            assertThat(rig.runtime.count("stop", "tts")).isZero();
        }
    }

    @Test
    void exclusiveGroupSwapWaitsForTheBusyLlmKeepsTtsAndRewarmsTheKeepWarmLlmAfterwards() throws Exception {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            Lease busy = rig.manager.acquire("qwen", WAIT);
            Future<String> w = ex.submit(() -> {
                try (Lease l = rig.manager.acquire("llama", WAIT)) {
                    return l.model();
                }
            });
            rig.await("qwen", DRAINING);
            assertThat(rig.runtime.isRunning("qwen")).isTrue();
            busy.close();
            assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo("llama");
            assertThat(rig.state("qwen")).isEqualTo(STOPPED);
            assertThat(rig.state("tts")).isEqualTo(READY);
            assertThat(rig.runtime.count("stop", "tts")).isZero();
            rig.tick();
            assertThat(rig.state("qwen")).as("not re-warmed while llama holds the group").isEqualTo(STOPPED);

            rig.clock.advance(Duration.ofSeconds(61)); // llama idles out
            rig.tick();
            rig.await("llama", STOPPED);
            rig.await("qwen", READY);
            assertThat(rig.runtime.count("start", "qwen")).isEqualTo(2);
        }
    }

    @Test
    void aRequestArrivingWhileTheModelStopsRestartsItAndIsServed() throws Exception {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            rig.manager.acquire("llama", WAIT).close();
            CountDownLatch stop = new CountDownLatch(1);
            rig.runtime.gateStop("llama", stop);
            rig.clock.advance(Duration.ofSeconds(61));
            rig.tick();
            rig.await("llama", STOPPING);
            Future<String> w = ex.submit(() -> {
                try (Lease l = rig.manager.acquire("llama", WAIT)) {
                    return l.model();
                }
            });
            rig.awaitWaiting("llama", 1);
            stop.countDown();
            assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo("llama");
            assertThat(rig.runtime.startsAndStops()).containsExactly("start llama", "stop llama", "start llama");
        }
    }

    @Test
    void runningContainersAreAdoptedAtBootWithoutAStart() {
        FakeRuntime runtime = all();
        runtime.addRunning("llama");
        try (Rig rig = new Rig(onDemand(""), runtime, null).boot()) {
            rig.await("llama", READY);
            assertThat(runtime.count("start", "llama")).isZero();
        }
    }

    @Test
    void everyStopIsVerifiedAndRetriedOnce() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.manager.acquire("llama", WAIT).close();
            rig.runtime.ignoreStops("llama", 1);
            assertThat(rig.manager.stop("llama", "manual", WAIT)).isTrue();
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            assertThat(rig.runtime.count("stop", "llama")).isEqualTo(2);
            assertThat(rig.runtime.isRunning("llama")).isFalse();

            rig.clock.advance(Duration.ofSeconds(1));
            rig.manager.acquire("llama", WAIT).close();
            rig.runtime.ignoreStops("llama", 10);
            rig.manager.stop("llama", "manual", WAIT);
            rig.await("llama", FAILED);
            assertThat(rig.manager.view("llama").lastError()).contains("still running");
        }
    }

    @Test
    void dockerDaemonDownIsReportedAndRecovered() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.runtime.daemonDown(true);
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(ManagerErrors.code(e)).isEqualTo("container_runtime_unavailable");
            });
            assertThat(rig.manager.runtimeAvailable()).isFalse();
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class,
                    e -> assertThat(ManagerErrors.code(e)).isEqualTo("container_runtime_unavailable"));
            rig.runtime.daemonDown(false);
            rig.tick();
            assertThat(rig.manager.runtimeAvailable()).isTrue();
            rig.clock.advance(Duration.ofSeconds(11));
            try (Lease l = rig.manager.acquire("llama", WAIT)) {
                assertThat(l.model()).isEqualTo("llama");
            }
        }
    }

    @Test
    void concurrencyLimitAndQueueAnswer429() throws Exception {
        try (Rig rig = new Rig(onDemand(", \"max_concurrency\": 1, \"max_queue\": 1"), all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Lease first = rig.manager.acquire("llama", WAIT);
            Future<String> queued = ex.submit(() -> {
                try (Lease l = rig.manager.acquire("llama", WAIT)) {
                    return l.model();
                }
            });
            rig.awaitWaiting("llama", 1);
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(429);
                assertThat(ManagerErrors.code(e)).isEqualTo("concurrency_limit");
                assertThat(ManagerErrors.retryAfterSeconds(e)).isEqualTo(1);
            });
            first.close();
            assertThat(queued.get(10, TimeUnit.SECONDS)).isEqualTo("llama");
        }
    }

    @Test
    void manualStopOfAKeepWarmModelHoldsUntilStartedAgain() {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            assertThat(rig.manager.stop("tts", "manual", WAIT)).isTrue();
            rig.tick();
            assertThat(rig.state("tts")).isEqualTo(STOPPED);
            rig.manager.start("tts", WAIT);
            assertThat(rig.state("tts")).isEqualTo(READY);
        }
    }

    @Test
    void unknownModelIsModelNotFound() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            assertThatThrownBy(() -> rig.manager.acquire("nope", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(404);
                assertThat(ManagerErrors.code(e)).isEqualTo("model_not_found");
            });
        }
    }

    @Test
    void safeToGameWaitsForGpuMemoryToBeFreed() throws Exception {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.manager.acquire("llama", WAIT).close();
            java.util.concurrent.atomic.AtomicLong used = new java.util.concurrent.atomic.AtomicLong(9000);
            rig.gpu = () -> java.util.Optional.of(new dev.localai.manager.vram.GpuProbe.Sample(used.get(), 24576));
            GamingResult r = rig.manager.gamingOn(false, WAIT); // vram_wait_s 0.1, target 1024 MiB
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            assertThat(r.vramUsedMb()).isEqualTo(9000);
            assertThat(r.safeToGame()).as("a game would not find the memory free").isFalse();
            used.set(400);
            assertThat(rig.manager.safeToGame()).isTrue();
        }
    }

    @Test
    void anAutoBudgetIsTheMeasuredTotalMinusTheReserve() {
        String cfg = """
            {"version": 2, "gpu": {"vram_budget_mb": "auto", "reserve_mb": 1000, "probe": "none"},
             "defaults": {"queue_timeout_s": 10},
             "models": {
               "llama": {"container": "llama", "port": 18001, "vram_mb": 12000},
               "whisper": {"container": "whisper", "port": 18007, "type": "stt", "vram_mb": 4000, "keep_warm": true}
             }}""";
        try (Rig rig = new Rig(cfg, all(), null)) {
            rig.gpu = () -> java.util.Optional.of(new dev.localai.manager.vram.GpuProbe.Sample(0, 16000));
            rig.boot();
            rig.await("whisper", READY);
            // 4000 + 12000 > 16000 - 1000, and the keep-warm whisper is not evicted
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class,
                    e -> assertThat(e.getMessage()).contains("15000 MiB budget"));
        }
    }

    @Test
    void aRequestThatJoinedASlowStartWaitsForItBeyondTheQueueTimeout() throws Exception {
        try (Rig rig = new Rig(onDemand(", \"queue_timeout_s\": 0.2, \"start_timeout_s\": 5"), all(), null).boot();
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch health = rig.holdHealth();
            Future<String> w = ex.submit(() -> {
                try (Lease l = rig.manager.acquire("llama", Duration.ofMillis(200))) {
                    return l.model();
                }
            });
            rig.awaitWaiting("llama", 1);
            // well past queue_timeout_s the request still waits for the start it joined
            assertThat(rig.manager.awaitCondition(v -> false, Duration.ofMillis(400))).isFalse();
            assertThat(w.isDone()).isFalse();
            health.countDown();
            assertThat(w.get(10, TimeUnit.SECONDS)).isEqualTo("llama");
        }
    }

    @Test
    void reconciliationAdoptsContainersStartedByHandAndStopsThemDuringGamingMode() throws Exception {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.runtime.addRunning("llama"); // started with `docker start` behind the manager's back
            rig.clock.advance(Duration.ofSeconds(30));
            rig.tick();
            rig.await("llama", READY);
            assertThat(rig.runtime.count("start", "llama")).isZero();

            rig.manager.gamingOn(false, WAIT);
            rig.runtime.addRunning("llama"); // and again, in the middle of a game
            rig.manager.reconcile();
            rig.await("llama", STOPPED);
            assertThat(rig.runtime.isRunning("llama")).isFalse();
        }
    }

    @Test
    void containersMissedWhileTheDaemonWasDownAreAdoptedWhenItReturns() {
        FakeRuntime runtime = all();
        runtime.addRunning("llama");
        runtime.daemonDown(true);
        try (Rig rig = new Rig(onDemand(""), runtime, null).boot()) {
            assertThat(rig.manager.runtimeAvailable()).isFalse();
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            runtime.daemonDown(false);
            rig.tick();
            rig.await("llama", READY);
            assertThat(runtime.count("start", "llama")).isZero();
        }
    }

    @Test
    void aReadyModelFailingItsHealthCheckIsStoppedVerifiedAndRewarmed() {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.await("qwen", READY);
            rig.neverHealthy.add("tts"); // the container runs but its server hangs
            rig.manager.checkNow("tts"); // liveness checks run synchronously here; failure_threshold 2
            assertThat(rig.state("tts")).as("one failed check is tolerated").isEqualTo(READY);
            rig.manager.checkNow("tts");
            rig.await("tts", FAILED);
            assertThat(rig.runtime.isRunning("tts")).as("the hung container was stopped").isFalse();
            assertThat(rig.manager.view("tts").lastError()).contains("health check failed 2 times");
            rig.neverHealthy.clear();
            rig.clock.advance(Duration.ofSeconds(10));
            rig.tick();
            rig.await("tts", READY);
        }
    }

    @Test
    void anUnwritableStateFileDoesNotKeepTheGpuBusy() throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("plain-file"), "x");
        try (Rig rig = new Rig(onDemand(""), all(), notADirectory.resolve("state.json")).boot()) {
            rig.manager.acquire("llama", WAIT).close();
            GamingResult r = rig.manager.gamingOn(false, WAIT);
            assertThat(r.persisted()).isFalse();
            assertThat(r.gamingMode()).isTrue();
            assertThat(rig.state("llama")).isEqualTo(STOPPED);
            assertThat(r.safeToGame()).isTrue();
        }
    }

    @Test
    void aCorruptStateFileMeansGamingModeOn() throws Exception {
        Path state = tmp.resolve("state.json");
        Files.writeString(state, "{not json");
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), state).boot()) {
            assertThat(rig.manager.gaming()).as("fail safe: never start GPU models under a game").isTrue();
            rig.tick();
            assertThat(rig.runtime.count("start", "tts")).isZero();
        }
    }

    @Test
    void anUnexpectedRuntimeBugFailsTheStartInsteadOfWedgingTheModel() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.runtime.bugOnStart("llama");
            assertThatThrownBy(() -> rig.manager.acquire("llama", WAIT)).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(ManagerErrors.code(e)).isEqualTo("model_start_failed");
                assertThat(e.getMessage()).contains("could not start").doesNotContain("bug in the runtime", "Exception");
            });
            assertThat(rig.state("llama")).isEqualTo(FAILED);
        }
    }

    @Test
    void aDockerDieEventIsNoticedAtOnceWithoutWaitingForTheLivenessInterval() {
        try (Rig rig = new Rig(config("24000", "0.3", ""), all(), null).boot()) {
            rig.await("tts", READY);
            rig.runtime.crash("tts", 137, true);
            rig.runtime.emit("{\"Type\":\"container\",\"Action\":\"oom\",\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"name\":\"tts\"}}}");
            rig.await("tts", FAILED); // no clock advance, no tick: the event triggered the check
            assertThat(rig.manager.view("tts").lastError()).contains("exit code 137", "OOM-killed");
            // events are hints: a die event for a container that still runs changes nothing
            rig.runtime.emit("{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"Attributes\":{\"name\":\"qwen\"}}}");
            rig.runtime.emit("not json at all");
            rig.manager.awaitCondition(v -> false, Duration.ofMillis(200));
            assertThat(rig.state("qwen")).isEqualTo(READY);
        }
    }

    @Test
    void safeToGameStaysFalseWhileAStopCouldNotBeVerifiedAndRecoversWithTheDaemon() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.manager.acquire("llama", WAIT).close();
            rig.runtime.daemonDown(true);
            GamingResult r = rig.manager.gamingOn(false, WAIT);
            assertThat(rig.state("llama")).isEqualTo(FAILED);
            assertThat(rig.runtime.isRunning("llama")).as("the container really still runs").isTrue();
            assertThat(r.safeToGame()).isFalse();
            assertThat(rig.manager.safeToGame()).isFalse();

            rig.runtime.daemonDown(false);
            rig.tick(); // the daemon is back: reconcile finds the container running during gaming mode and stops it
            rig.await("llama", STOPPED);
            assertThat(rig.runtime.isRunning("llama")).isFalse();
            assertThat(rig.manager.safeToGame()).isTrue();
        }
    }

    @Test
    void withTheDaemonUnreachableSafeToGameIsNeverTrueAndSaysWhy() {
        // the probe: docker cannot be asked, the TTS container still runs, the manager never saw it
        FakeRuntime runtime = all();
        runtime.addRunning("llama");
        runtime.daemonDown(true);
        try (Rig rig = new Rig(onDemand(""), runtime, null).boot()) {
            GamingResult r = rig.manager.gamingOn(false, Duration.ofMillis(200));
            assertThat(r.gamingMode()).isTrue();
            assertThat(r.safeToGame()).isFalse();
            assertThat(r.unsafeReason()).contains("cannot ask the container runtime", "Cannot connect to the Docker daemon");
            assertThat(rig.manager.safeToGame()).isFalse();
            assertThat(rig.manager.gamingSafety().reason()).contains("cannot ask the container runtime");
            assertThat(runtime.isRunning("llama")).isTrue();

            runtime.daemonDown(false); // back: reconciliation stops the GPU container it finds, then it is safe
            rig.tick();
            rig.await("llama", STOPPED);
            assertThat(runtime.isRunning("llama")).isFalse();
            assertThat(rig.manager.gamingSafety()).isEqualTo(new GamingSafety(true, null));
        }
    }

    @Test
    void aGpuContainerRunningBehindTheManagersBackIsStoppedByGamingModeAndNamedUntilThen() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.runtime.addRunning("llama"); // started by hand; the manager still holds llama as stopped
            GamingResult r = rig.manager.gamingOn(false, WAIT);
            assertThat(rig.runtime.isRunning("llama")).isFalse();
            assertThat(r.safeToGame()).isTrue();
            assertThat(r.unsafeReason()).isNull();
        }
    }

    @Test
    void absurdWaitsNeverOverflow() {
        try (Rig rig = new Rig(onDemand(""), all(), null).boot()) {
            rig.manager.acquire("llama", Duration.ofSeconds(Long.MAX_VALUE)).close();
            assertThat(rig.manager.stop("llama", "manual", Duration.ofSeconds(Long.MAX_VALUE))).isTrue();
            assertThat(rig.manager.awaitCondition(v -> true, Duration.ofSeconds(Long.MAX_VALUE))).isTrue();
        }
    }
}
