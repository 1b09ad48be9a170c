package dev.localai.tts.core.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JVM archive a launcher's first run writes at exit (a class-data archive; on Java 25, the recording
 * {@code NAME.config} that the next start assembles into the AOT cache {@code NAME}: {@code tts_cds_flags} in
 * {@code bin/jvm-env.sh}, which names it in the system property {@value #PROPERTY}). An archive keeps what its run
 * loaded and ran, and every later start maps it, so one written by a run that did no real work (help printed, a bad
 * flag, a failure before the work) would make every later start load the model's classes the slow way. Such a run
 * calls {@link #discard()}: it leaves {@code NAME.discard} beside the archive, and the launcher's next start deletes
 * both (a recording unassembled) and writes a new one.
 */
public final class JvmArchive {
    /** The system property naming the archive this run writes at exit; absent when it writes none. */
    public static final String PROPERTY = "localai.tts.jvmArchive";

    private JvmArchive() {}

    /** Marks this run's archive, if it writes one, to be discarded. */
    public static void discard() {
        discard(System.getProperty(PROPERTY));
    }

    /**
     * Marks {@code archive} (null or blank: none) to be discarded. A mark that cannot be written is ignored: the
     * archive is then kept, and later starts map fewer classes than they could, nothing worse.
     */
    static void discard(String archive) {
        if (archive == null || archive.isBlank()) {
            return;
        }
        try {
            Files.writeString(Path.of(archive + ".discard"), "");
        } catch (IOException | RuntimeException e) {
            // kept (above)
        }
    }
}
