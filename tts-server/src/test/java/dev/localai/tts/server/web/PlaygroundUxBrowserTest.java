package dev.localai.tts.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.testing.HeadlessChromium;
import dev.localai.tts.core.audio.WavWriter;
import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.testing.TestClips;
import dev.localai.tts.server.TtsServer;
import dev.localai.tts.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The playground's newer parts in headless Chromium against in-process servers: the API key field (a server with
 * {@code TTS_API_KEYS} and no public listings), the advanced controls and tag palette, the live progress line and
 * the clearing of the old result, the layout at 400 px, the status line of a model that is loading and then fails,
 * and the PCM decoder's odd-byte carry. Skips when Chromium is not installed.
 */
class PlaygroundUxBrowserTest {
    private static final String KEY = "sekret-key-42";
    @TempDir
    static Path tmp;
    static Path model;
    static TtsServer keyed;
    static HeadlessChromium browser;

    @BeforeAll
    static void start() throws Exception {
        browser = HeadlessChromium.start();
        model = ModelSource.tiny(tmp.resolve("tiny"), 11);
        keyed = TtsServer.start(config().apiKeys(List.of(KEY)).publicListings(false).build());
        assertThat(keyed.engines().awaitLoaded(Duration.ofMinutes(2))).isTrue();
        assertThat(keyed.engines().ready()).as(keyed.engines().status().detail()).isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (keyed != null) {
            keyed.shutdown();
        }
    }

    @AfterEach
    void wideAgain() {
        browser.driver().manage().window().setSize(new Dimension(1200, 1000));
    }

    private static ServerConfig.Builder config() throws Exception {
        return ServerConfig.builder().host("127.0.0.1").port(0).model(model.toString()).device("cpu").threads(1)
                .allowDownload(false).warmUp(false).maxTokens(20)
                .voicesDir(Files.createTempDirectory(tmp, "voices-"));
    }

    private static String base(TtsServer s) {
        return "http://127.0.0.1:" + s.port() + "/";
    }

    /** Opens the page on a fresh origin state (no stored key). */
    private static void open(TtsServer s) {
        open(s, null);
    }

    /** Opens the page with {@code key} stored as the API key ({@code null}: none). */
    private static void open(TtsServer s, String key) {
        browser.driver().get(base(s));
        browser.js("localStorage.clear(); if (arguments[0]) localStorage.setItem('localai-tts.apiKey', arguments[0]);",
                key);
        browser.driver().navigate().refresh();
    }

    private static String text(String id) {
        return browser.driver().findElement(By.id(id)).getText();
    }

    private static <T> T await(int seconds, String statusId, Function<WebDriver, T> condition) {
        try {
            return browser.await(seconds, condition);
        } catch (TimeoutException e) {
            throw new AssertionError("timed out; the page says: " + text(statusId), e);
        }
    }

    private static boolean voicesListed(WebDriver d) {
        return new Select(d.findElement(By.id("voice"))).getOptions().stream()
                .anyMatch(o -> "default".equals(o.getAttribute("value")));
    }

    @Test
    void theKeyFieldUnlocksTheApiAndIsRemembered() throws Exception {
        open(keyed);
        // the listings need the key on this server: the page says so and points at the field
        await(20, "voices-status", d -> text("voices-status").contains("API key") ? true : null);
        assertThat(browser.driver().findElement(By.id("voices-status")).getAttribute("class")).contains("error");

        WebElement field = browser.driver().findElement(By.id("api-key"));
        assertThat(field.getAttribute("type")).isEqualTo("password");
        field.sendKeys(KEY);
        browser.driver().findElement(By.id("save-key")).click();
        await(30, "voices-status", PlaygroundUxBrowserTest::voicesListed);
        assertThat(browser.js("return localStorage.getItem('localai-tts.apiKey');")).isEqualTo(KEY);

        // a reload keeps the key, and every call carries it
        browser.driver().navigate().refresh();
        await(30, "voices-status", PlaygroundUxBrowserTest::voicesListed);
        assertThat(browser.driver().findElement(By.id("api-key")).getAttribute("value")).isEqualTo(KEY);
        browser.js("""
                window.sent = [];
                const original = window.fetch;
                window.fetch = (url, options = {}) => {
                  window.sent.push({url: String(url), auth: (options.headers || {}).Authorization || null,
                                    body: typeof options.body === 'string' ? options.body : null});
                  return original(url, options);
                };""");

        // Speak with the advanced controls set
        browser.driver().findElement(By.cssSelector("#advanced summary")).click();
        browser.driver().findElement(By.id("seed")).sendKeys("7");
        browser.js("const t = document.getElementById('temperature'); t.value = '0.5';"
                + " t.dispatchEvent(new Event('input'));");
        assertThat(text("temperature-value")).isEqualTo("0.50");
        WebElement textBox = browser.driver().findElement(By.id("text"));
        textBox.clear();
        textBox.sendKeys("Hi.");
        new Select(browser.driver().findElement(By.id("format"))).selectByValue("wav");
        browser.driver().findElement(By.id("speak")).click();
        await(180, "speak-status", ExpectedConditions.textToBePresentInElementLocated(By.id("speak-status"), "Done"));
        assertThat(text("speak-progress")).matches("\\d+\\.\\d s elapsed, \\d+\\.\\d\\d s of audio");
        Map<?, ?> speech = sent("v1/audio/speech");
        assertThat(speech.get("auth")).isEqualTo("Bearer " + KEY);
        assertThat((String) speech.get("body")).contains("\"seed\":7", "\"temperature\":0.5", "\"input\":\"Hi.\"");

        // a new request hides the old result at once, before any of its audio has arrived
        assertThat(browser.driver().findElement(By.id("result")).isDisplayed()).isTrue();
        Object hiddenAtStart = browser.js("""
                document.getElementById('speak').click();
                return [document.getElementById('result').hidden, document.getElementById('stat-audio').textContent];""");
        assertThat(hiddenAtStart).isEqualTo(List.of(true, "–"));
        await(180, "speak-status", ExpectedConditions.textToBePresentInElementLocated(By.id("speak-status"), "Done"));

        // Upload carries the key too
        Path clip = tmp.resolve("key-clip.wav");
        WavWriter.writePcm16(clip, TestClips.speechLike(6.0), 24_000);
        browser.driver().findElement(By.id("voice-name")).sendKeys("keyed1");
        browser.driver().findElement(By.id("voice-file")).sendKeys(clip.toAbsolutePath().toString());
        browser.driver().findElement(By.id("upload")).click();
        await(180, "voices-status", d -> d.findElements(By.cssSelector("#voice-list tr[data-voice-id='keyed1']"))
                .stream().findFirst().orElse(null));
        assertThat(sent("v1/audio/voices").get("auth")).isEqualTo("Bearer " + KEY);
    }

    @Test
    void aWrongKeyIsReportedAsSuch() {
        open(keyed);
        browser.driver().findElement(By.id("api-key")).sendKeys("not-the-key");
        browser.driver().findElement(By.id("save-key")).click();
        await(20, "voices-status", d -> text("voices-status").contains("Check the API key") ? true : null);
    }

    /** The last request the page sent to a URL ending in {@code path}. */
    private static Map<?, ?> sent(String path) {
        @SuppressWarnings("unchecked")
        List<Map<?, ?>> all = (List<Map<?, ?>>) browser.js("return window.sent;");
        return all.stream().filter(m -> ((String) m.get("url")).endsWith(path)).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("the page sent nothing to " + path + ": " + all));
    }

    @Test
    void theTagPaletteInsertsAtTheCursor() throws Exception {
        open(keyed, KEY);
        browser.driver().findElement(By.cssSelector("#advanced summary")).click();
        await(20, "server-status", d -> d.findElements(By.cssSelector("#tags button[data-tag]")).size() == 19);
        browser.js("const t = document.getElementById('text'); t.value = 'Hello world'; t.setSelectionRange(5, 5);");
        browser.driver().findElement(By.cssSelector("#tags button[data-tag='[laugh]']")).click();
        assertThat(browser.js("return document.getElementById('text').value;")).isEqualTo("Hello [laugh] world");
        browser.driver().findElement(By.cssSelector("#pause-tags button[data-tag='[pause:0.5s]']")).click();
        assertThat(browser.js("return document.getElementById('text').value;"))
                .isEqualTo("Hello [laugh] [pause:0.5s] world");
        assertThat(browser.driver().findElements(By.cssSelector("#tags button.sound"))).hasSize(9);
        assertThat(browser.driver().findElements(By.cssSelector("#tags button.delivery"))).hasSize(10);
        browser.screenshot("playground-advanced");
    }

    @Test
    void at400PixelsNothingSpillsAndTheDeleteButtonsAreOnScreen() throws Exception {
        browser.driver().manage().window().setSize(new Dimension(400, 900));
        open(keyed, KEY);
        await(30, "voices-status", PlaygroundUxBrowserTest::voicesListed);
        browser.driver().findElement(By.cssSelector("#advanced summary")).click();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) browser.js("""
                const doc = document.documentElement;
                const width = doc.clientWidth;
                const deletes = [...document.querySelectorAll('#voice-list button.delete')].map(b => {
                  const r = b.getBoundingClientRect();
                  return {left: r.left, right: r.right, width: r.width};
                });
                const wide = [...document.querySelectorAll('body *')].filter(e => {
                  const r = e.getBoundingClientRect();
                  return r.width > 0 && r.right > width + 1;
                }).map(e => e.tagName + '#' + e.id + '.' + e.className);
                return {width, scrollWidth: doc.scrollWidth, deletes, wide};""");
        assertThat(((Number) m.get("width")).intValue()).isLessThanOrEqualTo(400);
        assertThat(((Number) m.get("scrollWidth")).intValue()).as("no horizontal overflow: %s", m.get("wide"))
                .isLessThanOrEqualTo(((Number) m.get("width")).intValue());
        assertThat((List<?>) m.get("wide")).isEmpty();
        List<?> deletes = (List<?>) m.get("deletes");
        assertThat(deletes).isNotEmpty();
        for (Object o : deletes) {
            Map<?, ?> r = (Map<?, ?>) o;
            assertThat(((Number) r.get("width")).doubleValue()).isPositive();
            assertThat(((Number) r.get("left")).doubleValue()).isGreaterThanOrEqualTo(0);
            assertThat(((Number) r.get("right")).doubleValue()).isLessThanOrEqualTo(((Number) m.get("width")).doubleValue());
        }
        browser.js("document.getElementById('voices').scrollIntoView();");
        browser.screenshot("playground-400px");
    }

    @Test
    void theStatusLineFollowsReadinessWithTheReasonAndNeverClaimsAConnection() throws Exception {
        CountDownLatch fail = new CountDownLatch(1);
        Supplier<SpeechSynthesizer> broken = () -> {
            try {
                fail.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("no checkpoint files in /models/missing");
        };
        TtsServer unready = TtsServer.start(config().build(), broken, "/models/missing");
        try {
            open(unready);
            await(20, "server-status", d -> text("server-status").startsWith("Not ready (loading)") ? true : null);
            assertThat(text("server-status")).contains("/models/missing").doesNotContain("Connected", "Ready:");

            fail.countDown();
            await(30, "server-status", d -> text("server-status").startsWith("Not ready (failed)") ? true : null);
            WebElement status = browser.driver().findElement(By.id("server-status"));
            assertThat(status.getText()).contains("no checkpoint files in /models/missing");
            assertThat(status.getAttribute("class")).contains("error");
            assertThat(status.getAttribute("data-state")).isEqualTo("failed");

            // speaking says why too, instead of hanging
            WebElement textBox = browser.driver().findElement(By.id("text"));
            textBox.clear();
            textBox.sendKeys("Hi.");
            browser.driver().findElement(By.id("speak")).click();
            await(20, "speak-status", d -> text("speak-status").startsWith("Failed:") ? true : null);
            assertThat(text("speak-status")).contains("could not be loaded");
        } finally {
            fail.countDown();
            unready.shutdown();
        }
    }

    @Test
    void thePcmDecoderCarriesAnOddByteWhateverItsValue() {
        open(keyed);
        Object decoded = browser.js("""
                const d = new Pcm16Decoder();
                const ints = (x) => Array.from(x, (v) => Math.round(v * 32768));
                const a = d.push(new Uint8Array([0x01, 0x00, 0x00])); // one sample, then a carried 0x00
                const b = d.push(new Uint8Array([0x80, 0xff]));       // 0x00 0x80 = -32768, then 0xff carried
                const c = d.push(new Uint8Array([0x7f]));             // 0xff 0x7f = 32767
                const e = d.push(new Uint8Array([]));
                return [ints(a), ints(b), ints(c), e.length];""");
        assertThat(decoded).isEqualTo(List.of(List.of(1L), List.of(-32768L), List.of(32767L), 0L));
    }
}
