package dev.localai.manager;

/** Entry point of the manager daemon. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("manager: not built yet");
    }
}
