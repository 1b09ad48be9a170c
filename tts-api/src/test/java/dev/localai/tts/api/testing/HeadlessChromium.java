package dev.localai.tts.api.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromedriver}) driven through Selenium, for the
 * browser tests. {@link #start()} skips the calling test (a JUnit assumption) when either program is missing;
 * {@code CHROME_BIN} and {@code CHROMEDRIVER} override where they are looked for. Nothing is downloaded.
 */
public final class HeadlessChromium implements AutoCloseable {
    private final ChromeDriver driver;
    private final Path profile;

    private HeadlessChromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** Starts a fresh browser with its own profile, or skips the test when no Chromium is installed. */
    public static HeadlessChromium start() throws IOException {
        Path chromium = Path.of(env("CHROME_BIN", "/usr/bin/chromium"));
        Path chromedriver = Path.of(env("CHROMEDRIVER", "/usr/bin/chromedriver"));
        Assumptions.assumeTrue(Files.isExecutable(chromium) && Files.isExecutable(chromedriver),
                "browser tests need chromium and chromedriver (apt-get install chromium chromium-driver); not found at "
                        + chromium + " / " + chromedriver);
        Path profile = Files.createTempDirectory("chromium-profile-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required", "--window-size=1200,1000",
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort()
                .build();
        return new HeadlessChromium(new ChromeDriver(service, options), profile);
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    public WebDriver driver() {
        return driver;
    }

    /** Runs a script in the page and returns its value (see {@code JavascriptExecutor#executeScript}). */
    public Object js(String script, Object... args) {
        return driver.executeScript(script, args);
    }

    /** Waits (up to {@code seconds}) until the condition gives a non-null, non-false value, and returns it. */
    public <T> T await(int seconds, Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, Duration.ofSeconds(seconds))
                .ignoring(StaleElementReferenceException.class) // the page re-renders lists while we look
                .until(condition);
    }

    /**
     * Saves a PNG of the window to {@code target/screenshots/NAME.png}, and also to the repository's
     * {@code docs/screenshots/} when run with {@code -Dweb.screenshots=docs} (how the README's pictures are made).
     */
    public Path screenshot(String name) throws IOException {
        Path png = driver.getScreenshotAs(OutputType.FILE).toPath();
        Path out = Files.createDirectories(Path.of("target", "screenshots")).resolve(name + ".png");
        Files.copy(png, out, StandardCopyOption.REPLACE_EXISTING);
        if ("docs".equals(System.getProperty("web.screenshots"))) {
            Path root = Path.of("").toAbsolutePath().getParent();
            Files.copy(png, Files.createDirectories(root.resolve("docs/screenshots")).resolve(name + ".png"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
