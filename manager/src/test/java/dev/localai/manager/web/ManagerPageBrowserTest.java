package dev.localai.manager.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.manager.api.ManagerServer;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.observe.EventBus;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import dev.localai.tts.api.testing.HeadlessChromium;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The manager's home-lab page ({@code /ui}) in a real headless Chromium: the design's models with their state,
 * VRAM, and the gaming-mode switch, which stops the GPU models and turns {@code safe_to_game} on, and back.
 * The manager is the real one (HTTP server, lifecycle, gaming mode) over in-memory containers, and a GPU whose used
 * memory is what the running containers' {@code vram_mb} add up to. Skips without Chromium.
 */
class ManagerPageBrowserTest {
    static final String MODELS = """
            {"version": 2,
             "gaming_mode": {"drain_timeout_s": 0.5, "vram_wait_s": 0.1},
             "models": {
               "chatterbox-turbo": {"container": "chatterbox-tts", "port": 8006, "type": "tts", "keep_warm": true, "vram_mb": 1536},
               "qwen2.5-14b-awq": {"container": "vllm-qwen14b-awq", "port": 8002, "type": "text", "keep_warm": true, "vram_mb": 12288},
               "llama3-8b": {"container": "vllm-llama3-8b", "port": 8001, "type": "text", "vram_mb": 16384},
               "qwen-image-edit": {"container": "qwen-image-server", "port": 8005, "type": "image", "vram_mb": 20480}
             }}
            """;
    static final long DESKTOP_MB = 600;
    static final long GPU_MB = 24_576;

    @TempDir
    Path tmp;
    HomeLabDocker docker;
    ModelManager manager;
    ManagerServer server;
    HeadlessChromium browser;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(ManagerServer.class.getResource("/dev/localai/manager/ui/index.html") != null,
                "this build of the manager has no home-lab page");
        browser = HeadlessChromium.start();
        ManagerConfig config = new ConfigLoader(name -> null).parse(MODELS);
        docker = new HomeLabDocker("chatterbox-tts", "vllm-qwen14b-awq", "vllm-llama3-8b", "qwen-image-server");
        GpuProbe gpu = () -> Optional.of(new GpuProbe.Sample(DESKTOP_MB + config.models().values().stream()
                .filter(m -> docker.isRunning(m.container())).mapToLong(ModelSpec::vramMb).sum(), GPU_MB));
        manager = new ModelManager(config, docker, (spec, timeout) -> docker.isRunning(spec.container()), gpu,
                new StateStore(tmp.resolve("manager-state.json")), new EventBus(), new Metrics(),
                new ModelManager.Options(Duration.ofMillis(10), Duration.ofMillis(200), false, InstantSource.system()));
        manager.boot();
        server = new ManagerServer(manager, HttpClient.newHttpClient()).start("127.0.0.1:0");
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    private String state(String model) {
        return browser.driver().findElement(By.cssSelector("#model-" + cssId(model) + " .state")).getText();
    }

    private static String cssId(String id) {
        return id.replace(".", "\\.");
    }

    private void awaitState(String model, String state) {
        browser.await(30, d -> {
            var cells = d.findElements(By.cssSelector("#model-" + cssId(model) + " .state"));
            return !cells.isEmpty() && cells.get(0).getText().startsWith(state);
        });
    }

    @Test
    void showsTheModelsAndSwitchesGamingModeOnAndOff() throws Exception {
        browser.driver().get("http://127.0.0.1:" + server.port() + "/ui");

        // the keep-warm models come up after boot; the others stay stopped
        awaitState("chatterbox-turbo", "ready");
        awaitState("qwen2.5-14b-awq", "ready");
        assertThat(browser.driver().findElements(By.cssSelector("#models tbody tr"))).hasSize(4);
        assertThat(state("llama3-8b")).startsWith("stopped");
        browser.await(10, ExpectedConditions.textToBePresentInElementLocated(By.id("safe-to-game"), "no"));
        // 600 MiB desktop + 1536 (TTS) + 12288 (qwen) = 14424 MiB of 24576
        browser.await(10, ExpectedConditions.textToBePresentInElementLocated(By.id("vram"), "14.1 GB used of 24 GB"));
        WebElement toggle = browser.driver().findElement(By.id("gaming-toggle"));
        assertThat(toggle.isSelected()).isFalse();
        browser.screenshot("manager");

        // at 400 px (a phone) the models table fits inside its card: nothing spills out, no sideways scrolling
        browser.driver().manage().window().setSize(new Dimension(400, 1000));
        browser.await(10, d -> ((Number) browser.js("return window.innerWidth")).intValue() <= 400);
        assertThat(((Number) browser.js("return document.documentElement.scrollWidth - window.innerWidth")).intValue())
                .as("page wider than the window").isLessThanOrEqualTo(0);
        assertThat(((Number) browser.js("const t = document.getElementById('models').getBoundingClientRect();"
                + "const c = document.getElementById('models').closest('.card').getBoundingClientRect();"
                + "return Math.max(0, t.right - c.right, c.left - t.left)")).doubleValue())
                .as("table spills out of its card").isLessThanOrEqualTo(0.5);
        assertThat(browser.driver().findElement(By.cssSelector("#model-llama3-8b button")).isDisplayed()).isTrue();
        browser.screenshot("manager-400px");
        browser.driver().manage().window().setSize(new Dimension(1200, 1000));

        toggle.click();
        browser.await(30, ExpectedConditions.textToBePresentInElementLocated(By.id("safe-to-game"), "yes"));
        awaitState("chatterbox-turbo", "stopped");
        awaitState("qwen2.5-14b-awq", "stopped");
        assertThat(manager.gaming()).isTrue();
        assertThat(docker.running()).isEmpty();
        browser.await(10, ExpectedConditions.textToBePresentInElementLocated(By.id("vram"), "0.6 GB used of 24 GB"));
        assertThat(browser.driver().findElement(By.id("gaming-toggle")).isSelected()).isTrue();
        browser.await(10, d -> !d.findElements(By.cssSelector("#events li")).isEmpty());
        browser.screenshot("manager-gaming");

        browser.driver().findElement(By.id("gaming-toggle")).click();
        awaitState("chatterbox-turbo", "ready");
        awaitState("qwen2.5-14b-awq", "ready");
        browser.await(30, ExpectedConditions.textToBePresentInElementLocated(By.id("safe-to-game"), "no"));
        assertThat(manager.gaming()).isFalse();
        assertThat(docker.running()).containsExactlyInAnyOrder("chatterbox-tts", "vllm-qwen14b-awq");
    }
}
