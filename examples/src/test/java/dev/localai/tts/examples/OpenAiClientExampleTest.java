package dev.localai.tts.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the OpenAI SDK example against a loopback HTTP endpoint that records what the SDK sent: the example must send
 * the OpenAI speech request (path, JSON body) and save the response body unchanged. (The server's side of the
 * contract, with the same SDK, is tested in tts-server.)
 */
class OpenAiClientExampleTest {
    @TempDir
    Path tmp;

    @Test
    void sendsAnOpenAiSpeechRequestAndSavesTheAudio() throws Exception {
        byte[] audio = new byte[5000];
        for (int i = 0; i < audio.length; i++) {
            audio[i] = (byte) (i * 31);
        }
        AtomicReference<String> path = new AtomicReference<>();
        AtomicReference<byte[]> body = new AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            path.set(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            body.set(exchange.getRequestBody().readAllBytes());
            exchange.getResponseHeaders().add("Content-Type", "audio/wav");
            exchange.sendResponseHeaders(200, audio.length);
            exchange.getResponseBody().write(audio);
            exchange.close();
        });
        server.start();
        try {
            Path out = tmp.resolve("hello.wav");
            String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
            OpenAiClientExample.main(new String[] {base, "Hello through the SDK.", out.toString(), "narrator"});

            assertThat(path.get()).isEqualTo("POST /v1/audio/speech");
            JsonNode json = new ObjectMapper().readTree(body.get());
            assertThat(json.path("model").asText()).isEqualTo("tts-1");
            assertThat(json.path("input").asText()).isEqualTo("Hello through the SDK.");
            assertThat(json.path("voice").asText()).isEqualTo("narrator");
            assertThat(json.path("response_format").asText()).isEqualTo("wav");
            assertThat(Files.readAllBytes(out)).isEqualTo(audio);
        } finally {
            server.stop(0);
        }
    }
}
