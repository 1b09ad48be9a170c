package dev.localai.tts.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.testing.HeadlessChromium;
import dev.localai.tts.core.audio.WavWriter;
import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.testing.TestClips;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The web playground in a real headless Chromium against a real {@code tts-server} on a tiny random checkpoint:
 * speak from the text box and get playable audio in the page's {@code <audio>} element; upload, preview, rename and
 * delete a voice. Skips when Chromium is not installed. Run with {@code -Dweb.screenshots=docs} to refresh the
 * README's screenshots; {@code -Dweb.baseUrl=http://host:port/} points it at a server that is already running.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlaygroundBrowserTest {
    @TempDir
    static Path tmp;
    static ServerProcess server;
    static URI base;
    static HeadlessChromium browser;

    @BeforeAll
    static void start() throws Exception {
        browser = HeadlessChromium.start();
        String external = System.getProperty("web.baseUrl");
        if (external != null && !external.isBlank()) {
            base = URI.create(external.endsWith("/") ? external : external + "/");
        } else {
            Path model = ModelSource.tiny(tmp.resolve("tiny"), 11);
            server = ServerProcess.start("playground-browser-server", model, tmp.resolve("voices"));
            base = server.base();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static void openPage() {
        browser.driver().get(base.toString());
        // the voice picker is filled from GET /v1/audio/voices once the page has loaded
        browser.await(20, d -> new Select(d.findElement(By.id("voice"))).getOptions().stream()
                .anyMatch(o -> "default".equals(o.getAttribute("value"))));
    }

    /** readyState, duration and error code of the page's audio element once it holds playable audio. */
    private static Map<?, ?> awaitPlayableAudio(String previousSrc) {
        return browser.await(240, d -> {
            Object r = browser.js("""
                    const a = document.getElementById('player');
                    if (!a.src || a.src === arguments[0]) return null;
                    if (a.error) return {error: a.error.code, message: a.error.message};
                    if (a.readyState < 1 || !(a.duration > 0)) return null;
                    return {readyState: a.readyState, duration: a.duration, src: a.src};
                    """, previousSrc);
            return r instanceof Map<?, ?> m ? m : null;
        });
    }

    /** {@link HeadlessChromium#await}, failing with what the page's status line says. */
    private static <T> T awaitExplained(int seconds, String statusId, java.util.function.Function<org.openqa.selenium.WebDriver, T> condition) {
        try {
            return browser.await(seconds, condition);
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("timed out; the page says: "
                    + browser.driver().findElement(By.id(statusId)).getText(), e);
        }
    }

    private static void setText(String s) {
        WebElement text = browser.driver().findElement(By.id("text"));
        text.clear();
        text.sendKeys(s);
    }

    private static String playerSrc() {
        return (String) browser.js("return document.getElementById('player').src;");
    }

    @Test
    @Order(1)
    void speaksFromThePlaygroundIntoPlayableAudio() throws Exception {
        openPage();
        // short: a tiny random checkpoint babbles up to its token cap, and the cap grows with the text
        setText("Hi.");
        new Select(browser.driver().findElement(By.id("format"))).selectByValue("wav");
        // keyboard only: Ctrl+Enter in the text box speaks
        browser.driver().findElement(By.id("text")).sendKeys(Keys.chord(Keys.CONTROL, Keys.ENTER));

        Map<?, ?> audio = awaitPlayableAudio("");
        assertThat(audio.get("error")).as("audio element error: %s", audio).isNull();
        assertThat(((Number) audio.get("readyState")).intValue()).isGreaterThanOrEqualTo(1);
        assertThat(((Number) audio.get("duration")).doubleValue()).isGreaterThan(0.1);
        browser.await(30, ExpectedConditions.textToBePresentInElementLocated(By.id("speak-status"), "Done"));
        assertThat(browser.driver().findElement(By.id("stat-rtf")).getText()).matches("\\d+\\.\\d+");
        assertThat(browser.driver().findElement(By.id("stat-time")).getText()).matches("\\d+\\.\\d+ s.*");
        WebElement download = browser.driver().findElement(By.id("download"));
        assertThat(download.getAttribute("href")).startsWith("blob:");
        assertThat(download.getAttribute("download")).isEqualTo("speech.wav");
        // every sample of the WAV went to Web Audio while it was being generated
        long wavSamples = ((Number) browser.js("""
                return fetch(document.getElementById('download').href).then(r => r.arrayBuffer())
                    .then(b => (b.byteLength - 44) / 2);""")).longValue();
        String streamed = browser.driver().findElement(By.id("result")).getAttribute("data-streamed-samples");
        assertThat(Long.parseLong(streamed)).isEqualTo(wavSamples).isPositive();
        browser.screenshot("playground");
    }

    @Test
    @Order(0)
    void everyControlHasALabelAndNothingComesFromElsewhere() {
        openPage();
        @SuppressWarnings("unchecked")
        List<String> unlabelled = (List<String>) browser.js("""
                return [...document.querySelectorAll('input, select, textarea, button')]
                    .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
                    .map(c => c.outerHTML);""");
        assertThat(unlabelled).isEmpty();
        @SuppressWarnings("unchecked")
        List<String> foreign = (List<String>) browser.js("""
                return performance.getEntriesByType('resource').map(e => e.name)
                    .filter(u => new URL(u).origin !== location.origin);""");
        assertThat(foreign).isEmpty();
    }

    @Test
    @Order(2)
    void otherFormatsPlayToo() {
        openPage();
        setText("Hi.");
        new Select(browser.driver().findElement(By.id("format"))).selectByValue("mp3");
        browser.driver().findElement(By.id("speak")).click();
        Map<?, ?> audio = awaitPlayableAudio("");
        assertThat(audio.get("error")).as("audio element error: %s", audio).isNull();
        assertThat(((Number) audio.get("duration")).doubleValue()).isGreaterThan(0.1);
        assertThat(browser.driver().findElement(By.id("download")).getAttribute("download")).isEqualTo("speech.mp3");
    }

    @Test
    @Order(3)
    void uploadsPreviewsRenamesAndDeletesAVoice() throws Exception {
        Path clip = tmp.resolve("browser-clip.wav");
        WavWriter.writePcm16(clip, TestClips.speechLike(6.0), 24_000);
        openPage();

        browser.driver().findElement(By.id("voice-name")).sendKeys("vc1");
        browser.driver().findElement(By.id("voice-file")).sendKeys(clip.toAbsolutePath().toString());
        browser.driver().findElement(By.id("upload")).click();
        WebElement row = awaitExplained(180, "voices-status", d -> d.findElements(By.cssSelector("#voice-list tr[data-voice-id='vc1']"))
                .stream().findFirst().orElse(null));
        assertThat(voiceIdsOnServer()).contains("vc1");
        assertThat(new Select(browser.driver().findElement(By.id("voice"))).getOptions())
                .extracting(o -> o.getAttribute("value")).contains("vc1");
        browser.js("document.getElementById('voices').scrollIntoView();");
        browser.screenshot("voices");

        // the preview as a whole file (faster than streaming on a busy CPU)
        WebElement stream = browser.driver().findElement(By.id("stream"));
        if (stream.isSelected()) {
            stream.click();
        }
        String before = playerSrc();
        row.findElement(By.cssSelector("button.preview")).click();
        Map<?, ?> audio = awaitPlayableAudio(before == null ? "" : before);
        assertThat(audio.get("error")).as("preview audio error: %s", audio).isNull();

        row.findElement(By.cssSelector("button.rename")).click();
        WebElement input = browser.driver().findElement(By.cssSelector(".rename-form input"));
        input.clear();
        input.sendKeys("vc2");
        browser.driver().findElement(By.cssSelector(".rename-form button[type=submit]")).click();
        WebElement renamed = awaitExplained(60, "voices-status", d -> d.findElements(By.cssSelector("#voice-list tr"))
                .stream().filter(r -> r.getText().contains("vc2")).findFirst().orElse(null));
        assertThat(voiceNamesOnServer()).contains("vc2").doesNotContain("vc1");

        renamed.findElement(By.cssSelector("button.delete")).click();
        Alert confirm = browser.await(10, ExpectedConditions.alertIsPresent());
        confirm.accept();
        browser.await(60, d -> d.findElements(By.cssSelector("#voice-list tr")).stream()
                .noneMatch(r -> r.getText().contains("vc2")));
        assertThat(voiceNamesOnServer()).doesNotContain("vc2");
    }

    private static List<String> voiceIdsOnServer() throws Exception {
        return voiceField("id");
    }

    private static List<String> voiceNamesOnServer() throws Exception {
        return voiceField("name");
    }

    private static List<String> voiceField(String field) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(base.resolve("v1/audio/voices")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
        return json.path("voices").findValuesAsText(field);
    }
}
