package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import dev.localai.tts.core.engine.ModelSource;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client and an operator learn of streamed audio that the engine made the cheaper way: a tiny checkpoint whose
 * built-in voice has an 8 s S3Gen prompt (200 tokens) behind a server whose first-audio target is 1 ms, which any real
 * measurement misses, so after the warm-up every streamed request's first block runs on the prompt's last 5 s in one
 * flow step, on every machine. Each stream says how many of its seconds came so in its {@code X-Cheaper-Audio-Seconds}
 * trailer, and {@code tts_cheaper_audio_seconds_total} adds them up; a whole file is never made cheaper.
 */
class CheaperAudioTest {
    private static final Pattern TOTAL = Pattern.compile("(?m)^tts_cheaper_audio_seconds_total (\\S+)$");
    @TempDir
    static Path tmp;
    private static TtsServer server;
    private static Http http;

    @BeforeAll
    static void start() throws Exception {
        Path model = ModelSource.tiny(tmp.resolve("tiny-long-prompt"), 11,
                TinyCheckpoint.CondsSpec.tiny().withGenPromptTokens(200));
        server = TestServers.startReady(TestServers.config().model(model.toString())
                .firstAudioTarget(Duration.ofMillis(1)).build());
        http = new Http(server);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.shutdown();
        }
    }

    private static double total() {
        HttpResponse<byte[]> m = http.get("/metrics");
        assertThat(m.statusCode()).isEqualTo(200);
        Matcher t = TOTAL.matcher(new String(m.body(), StandardCharsets.UTF_8));
        assertThat(t.find()).as("tts_cheaper_audio_seconds_total is exposed").isTrue();
        return Double.parseDouble(t.group(1));
    }

    @Test
    void aStreamSaysHowMuchOfItCameTheCheaperWayAndTheCounterAddsItUp() {
        double before = total();
        RawHttp.Chunked a;
        try (RawHttp raw = new RawHttp(http.uri("/").getPort())) {
            a = raw.post("/v1/audio/speech", "{\"model\":\"tts-1\",\"input\":\"A first block on the prompt's "
                    + "last part.\",\"voice\":\"alloy\",\"response_format\":\"pcm\",\"seed\":4}").chunkedAnswer();
        }
        assertThat(a.status()).isEqualTo(200);
        double seconds = a.body().length / 2.0 / 24000;
        double cheaper = Double.parseDouble(a.trailers().get("x-cheaper-audio-seconds"));
        // at least the first block's audio, never more than the stream
        assertThat(cheaper).isPositive().isLessThanOrEqualTo(seconds + 0.001);
        assertThat(total() - before).isCloseTo(cheaper, org.assertj.core.data.Offset.offset(0.002));

        double afterStream = total();
        HttpResponse<byte[]> file = http.speech("{\"model\":\"tts-1\",\"input\":\"A whole file is exact.\","
                + "\"voice\":\"alloy\",\"response_format\":\"pcm\",\"stream\":false,\"seed\":5}");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body().length).isPositive();
        assertThat(total()).isEqualTo(afterStream);
    }
}
