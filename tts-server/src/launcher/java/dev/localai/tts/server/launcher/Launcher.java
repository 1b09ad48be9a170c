package dev.localai.tts.server.launcher;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The jar's entry point, compiled for Java 8 so that any {@code java} can load it: on Java 21 or newer it hands over
 * to {@code dev.localai.tts.server.Main}; on an older Java (Debian's default {@code java} is 17) it says in one line
 * that Java 21+ is needed, instead of an {@code UnsupportedClassVersionError} and its stack trace.
 */
public final class Launcher {
    /** The Java feature version the server needs. */
    static final int MIN_JAVA = 21;
    private static final String MAIN = "dev.localai.tts.server.Main";

    private Launcher() {
    }

    public static void main(String[] args) throws Throwable {
        int version = featureVersion(System.getProperty("java.specification.version", "0"));
        if (version < MIN_JAVA) {
            System.err.println("tts-server: needs Java " + MIN_JAVA + " or newer, but this is Java " + version
                    + " (" + System.getProperty("java.home") + "); run it with a JDK 21+ java, or use ./tts serve,"
                    + " which finds one");
            System.exit(1);
            return;
        }
        MethodHandle main = MethodHandles.publicLookup().findStatic(Class.forName(MAIN), "main",
                MethodType.methodType(void.class, String[].class));
        main.invokeExact(args);
    }

    /** 8 for "1.8", 17 for "17", 0 when unreadable. */
    static int featureVersion(String spec) {
        String s = spec.startsWith("1.") ? spec.substring(2) : spec;
        int dot = s.indexOf('.');
        try {
            return Integer.parseInt(dot < 0 ? s : s.substring(0, dot));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
