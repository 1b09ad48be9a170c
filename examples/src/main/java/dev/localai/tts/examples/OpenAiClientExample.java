package dev.localai.tts.examples;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.models.audio.speech.SpeechCreateParams;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Calls {@code tts-server} (or the manager in front of it) with the official OpenAI Java SDK: the server speaks the
 * OpenAI {@code /v1/audio/speech} contract, so only the base URL changes.
 *
 * <pre>
 * ./examples/run OpenAiClientExample http://localhost:8080/v1 "Hello through the OpenAI SDK." hello.mp3
 * </pre>
 *
 * The response is copied to the file as it arrives (the SDK does not buffer the body). The API key is only checked
 * when the server was started with keys; {@code OPENAI_API_KEY} is used when set.
 */
public final class OpenAiClientExample {
    private OpenAiClientExample() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: OpenAiClientExample BASE_URL TEXT OUT_FILE [VOICE]");
        }
        String baseUrl = args[0];
        String text = args[1];
        Path out = Path.of(args[2]);
        String voice = args.length > 3 ? args[3] : "default";
        String key = System.getenv().getOrDefault("OPENAI_API_KEY", "not-needed");

        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey(key).build();
        try {
            SpeechCreateParams params = SpeechCreateParams.builder()
                    .model("tts-1")
                    .input(text)
                    .voice(voice)
                    .responseFormat(SpeechCreateParams.ResponseFormat.of(ExampleArgs.formatOf(out).wireName()))
                    .build();
            try (HttpResponse response = client.audio().speech().create(params);
                 InputStream body = response.body()) {
                long bytes = Files.copy(body, out, StandardCopyOption.REPLACE_EXISTING);
                System.out.println("wrote " + bytes + " bytes to " + out);
            }
        } finally {
            client.close();
        }
    }
}
