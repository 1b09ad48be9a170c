package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.ResponseFormat;
import dev.localai.tts.core.audio.encode.TestAudio;
import java.net.http.HttpResponse;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Every response format, streamed and as a whole file, decodes to 24 kHz audio of the announced length. */
class SpeechFormatsTest {
    static Http http;

    @BeforeAll
    static void start() {
        http = new Http(TestServers.shared());
    }

    /**
     * Each format has its own seed, so each whole-file request is a synthesis of its own: an identical earlier
     * request may be answered from the server's audio cache in well under a millisecond, and its generation time
     * then rounds to 0.000.
     */
    private static String body(ResponseFormat f, boolean stream) {
        return "{\"model\":\"tts-1\",\"input\":\"Hello from the server.\",\"voice\":\"alloy\",\"seed\":"
                + (40 + f.ordinal()) + ","
                + "\"response_format\":\"" + f.wire() + "\",\"stream\":" + stream + "}";
    }

    private static String contentType(ResponseFormat f) {
        return switch (f) {
            case MP3 -> "audio/mpeg";
            case OPUS -> "audio/ogg";
            case AAC -> "audio/aac";
            case FLAC -> "audio/flac";
            case WAV -> "audio/wav";
            case PCM -> "audio/pcm";
        };
    }

    private static String containerName(ResponseFormat f) {
        return switch (f) {
            case MP3 -> "mp3";
            case OPUS -> "ogg";
            case AAC -> "aac";
            case FLAC -> "flac";
            case WAV -> "wav";
            case PCM -> "pcm";
        };
    }

    @ParameterizedTest
    @EnumSource(ResponseFormat.class)
    void wholeFileDecodesAndCarriesTimingHeaders(ResponseFormat f) throws Exception {
        HttpResponse<byte[]> r = http.speech(body(f, false));
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith(contentType(f)));
        assertThat(r.headers().firstValueAsLong("content-length")).hasValue(r.body().length);
        assertThat(r.headers().firstValue("x-request-id")).hasValueSatisfying(v -> assertThat(v).startsWith("req_"));
        double announced = Double.parseDouble(r.headers().firstValue("x-audio-duration").orElseThrow());
        double gen = Double.parseDouble(r.headers().firstValue("x-generation-time").orElseThrow());
        double rtf = Double.parseDouble(r.headers().firstValue("x-real-time-factor").orElseThrow());
        assertThat(announced).isPositive();
        assertThat(gen).isPositive();
        assertThat(rtf).isCloseTo(gen / announced, org.assertj.core.data.Offset.offset(0.01 + rtf * 0.01));
        TestAudio.Decoded d = TestAudio.decode(r.body(), f == ResponseFormat.PCM);
        assertThat(d.format().toLowerCase(Locale.ROOT)).contains(containerName(f));
        // lossy codecs pad by a frame or two
        assertThat(d.seconds()).isCloseTo(announced, org.assertj.core.data.Offset.offset(0.1));
    }

    @ParameterizedTest
    @EnumSource(ResponseFormat.class)
    void streamedBodyIsOneValidFileOfTheSameLength(ResponseFormat f) throws Exception {
        HttpResponse<byte[]> file = http.speech(body(f, false));
        HttpResponse<byte[]> r = http.speech(body(f, true));
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith(contentType(f)));
        assertThat(r.headers().firstValue("content-length")).isEmpty();
        assertThat(r.headers().firstValue("transfer-encoding")).hasValue("chunked");
        TestAudio.Decoded streamed = TestAudio.decode(r.body(), f == ResponseFormat.PCM);
        TestAudio.Decoded whole = TestAudio.decode(file.body(), f == ResponseFormat.PCM);
        assertThat(streamed.seconds()).isPositive();
        assertThat(streamed.seconds()).isCloseTo(whole.seconds(), org.assertj.core.data.Offset.offset(0.1));
    }

    @Test
    void defaultFormatIsMp3AndStreamedWavCarriesTheSizeSentinel() throws Exception {
        HttpResponse<byte[]> mp3 = http.speech("{\"model\":\"chatterbox-turbo\",\"input\":\"Default.\",\"voice\":\"default\"}");
        assertThat(mp3.statusCode()).isEqualTo(200);
        assertThat(mp3.headers().firstValue("content-type")).hasValue("audio/mpeg");
        assertThat(TestAudio.decode(mp3.body(), false).codec()).contains("mp3");
        HttpResponse<byte[]> wav = http.speech(body(ResponseFormat.WAV, true));
        byte[] b = wav.body();
        assertThat(new String(b, 0, 4)).isEqualTo("RIFF");
        assertThat(java.nio.ByteBuffer.wrap(b, 4, 4).getInt()).isEqualTo(0xFFFFFFFF);
    }

    @Test
    void pcmIsRaw24kHzS16leAndSpeedChangesTheDuration() {
        String base = "{\"model\":\"tts-1\",\"input\":\"Speed check.\",\"voice\":\"alloy\",\"seed\":8,"
                + "\"response_format\":\"pcm\",\"stream\":false";
        HttpResponse<byte[]> normal = http.speech(base + "}");
        HttpResponse<byte[]> fast = http.speech(base + ",\"speed\":2.0}");
        assertThat(normal.statusCode()).isEqualTo(200);
        assertThat(normal.body().length % 2).isZero();
        double seconds = normal.body().length / 2.0 / 24000;
        assertThat(Double.parseDouble(normal.headers().firstValue("x-audio-duration").orElseThrow()))
                .isCloseTo(seconds, org.assertj.core.data.Offset.offset(0.002));
        assertThat((double) fast.body().length / normal.body().length).isBetween(0.4, 0.6);
    }

    @Test
    void aStreamedResponseEndsWithTheTimingFiguresAsTrailers() {
        RawHttp.Chunked a;
        try (RawHttp raw = new RawHttp(http.uri("/").getPort())) {
            a = raw.post("/v1/audio/speech", "{\"model\":\"tts-1\",\"input\":\"Trailers at the end.\","
                    + "\"voice\":\"alloy\",\"response_format\":\"pcm\",\"seed\":2}").chunkedAnswer();
        }
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers()).containsEntry("transfer-encoding", "chunked");
        assertThat(a.headers().get("trailer")).contains("X-Audio-Duration").contains("X-Cheaper-Audio-Seconds");
        double seconds = a.body().length / 2.0 / 24000;
        assertThat(seconds).isPositive();
        assertThat(Double.parseDouble(a.trailers().get("x-audio-duration")))
                .isCloseTo(seconds, org.assertj.core.data.Offset.offset(0.002));
        assertThat(Double.parseDouble(a.trailers().get("x-generation-time"))).isPositive();
        assertThat(a.trailers()).containsKeys("x-real-time-factor", "x-time-to-first-audio");
        // how much of it the engine made the cheaper way (CheaperAudioTest makes some)
        assertThat(Double.parseDouble(a.trailers().get("x-cheaper-audio-seconds"))).isBetween(0.0, seconds + 0.001);
    }

    @Test
    void everyAcceptedModelNameAndVoiceShapeWorks() {
        for (String model : new String[] {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "chatterbox-turbo"}) {
            HttpResponse<byte[]> r = http.speech("{\"model\":\"" + model + "\",\"input\":\"Hi.\","
                    + "\"voice\":{\"id\":\"default\"},\"response_format\":\"wav\",\"instructions\":\"cheerful\"}");
            assertThat(r.statusCode()).as(model + ": " + new String(r.body())).isEqualTo(200);
        }
    }
}
