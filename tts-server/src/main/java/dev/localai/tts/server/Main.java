package dev.localai.tts.server;

/** Entry point of the TTS server (filled in by the server issue). */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("tts-server: not built yet");
    }
}
