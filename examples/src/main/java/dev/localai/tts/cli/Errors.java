package dev.localai.tts.cli;

import dev.localai.tts.core.hub.HubException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** Turns exceptions into one-line messages and exit codes. */
final class Errors {
    private Errors() {}

    static String message(Throwable t) {
        Throwable e = t instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : t;
        String m = e.getMessage();
        if (e instanceof NoSuchFileException) {
            return "no such file: " + m;
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + m;
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists: " + m;
        }
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        return m;
    }

    static int exitCode(Throwable t) {
        if (t instanceof HubException h
                && (h.kind() == HubException.Kind.OFFLINE || h.kind() == HubException.Kind.UNREACHABLE)) {
            return TtsCli.EXIT_HUB_UNAVAILABLE;
        }
        return TtsCli.EXIT_FAILURE;
    }
}
