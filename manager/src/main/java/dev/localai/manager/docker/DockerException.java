package dev.localai.manager.docker;

/** A failed container-runtime operation, classified so callers can decide what to tell clients. */
public final class DockerException extends Exception {
    /** Failure classes. */
    public enum Kind {
        /** The container does not exist (a configuration error; not retryable). */
        NOT_FOUND,
        /** The daemon cannot be reached or the CLI is missing (retryable; reported in /status). */
        DAEMON_UNAVAILABLE,
        /** The command did not finish within its timeout (the process was killed). */
        TIMEOUT,
        /** Any other failure (stderr text in the message, e.g. port already allocated, GPU errors). */
        FAILED
    }

    private final Kind kind;

    public DockerException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Classifies a failed CLI invocation from its exit code and stderr. */
    public static DockerException classify(String op, int exit, String stderr) {
        String s = stderr == null ? "" : stderr.strip();
        String lower = s.toLowerCase(java.util.Locale.ROOT);
        Kind k;
        if (lower.contains("no such container") || lower.contains("no such object")) k = Kind.NOT_FOUND;
        else if (lower.contains("cannot connect to the docker daemon") || lower.contains("error during connect")
                || lower.contains("is the docker daemon running") || lower.contains("connection refused"))
            k = Kind.DAEMON_UNAVAILABLE;
        else k = Kind.FAILED;
        if (s.length() > 2000) s = s.substring(0, 2000) + "...";
        return new DockerException(k, "docker " + op + " failed (exit " + exit + "): " + (s.isEmpty() ? "no output" : s));
    }
}
