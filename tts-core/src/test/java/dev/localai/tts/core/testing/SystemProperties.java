package dev.localai.tts.core.testing;

/** Putting a system property back after a test changed it. */
public final class SystemProperties {
    private SystemProperties() {}

    /** Sets {@code name} back to {@code value} as read before the test: cleared when it was not set. */
    public static void restore(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }
}
