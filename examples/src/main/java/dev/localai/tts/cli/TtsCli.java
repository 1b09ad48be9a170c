package dev.localai.tts.cli;

/** The tts command line. */
public final class TtsCli {
    private TtsCli() {}

    public static void main(String[] args) {
        System.out.println("tts: not built yet");
    }
}
