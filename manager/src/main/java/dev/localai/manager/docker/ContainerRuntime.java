package dev.localai.manager.docker;

import java.io.InputStream;
import java.time.Duration;
import java.util.Set;

/** The few container operations the manager needs. Docker is the source of truth for "is it running". */
public interface ContainerRuntime {
    /** State of a container; {@link DockerException.Kind#NOT_FOUND} when it does not exist. */
    ContainerState inspect(String name) throws DockerException;

    /** Starts a stopped container (idempotent for a running one). */
    void start(String name) throws DockerException;

    /** Stops a container: SIGTERM, then SIGKILL after {@code grace} (idempotent). */
    void stop(String name, Duration grace) throws DockerException;

    /** Names of the running containers. */
    Set<String> running() throws DockerException;

    /** The last {@code tail} lines of the container's log (stdout and stderr). */
    String logs(String name, int tail) throws DockerException;

    /** A live log stream (tail then follow); closing the stream ends it. */
    InputStream followLogs(String name, int tail) throws DockerException;

    /**
     * A live stream of container events, one JSON object per line ({@code Action}: start, die, oom, stop...;
     * {@code Actor.Attributes.name}); closing the stream ends it. Events can be missed: it complements inspection.
     */
    InputStream events() throws DockerException;

    /** Checks that the daemon answers; returns its version. */
    String ping() throws DockerException;
}
