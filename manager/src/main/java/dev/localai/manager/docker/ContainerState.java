package dev.localai.manager.docker;

/**
 * What the runtime says about one container.
 *
 * @param status        docker's status word (created, running, exited, restarting, paused, dead)
 * @param health        health status of the container's own HEALTHCHECK, or empty
 * @param restartPolicy restart policy name ("no", "always", "unless-stopped", "on-failure")
 * @param portBindings  host IPs the container publishes on, e.g. "0.0.0.0:8006" (for warnings)
 */
public record ContainerState(String name, boolean running, String status, int exitCode, boolean oomKilled,
                             String error, String health, String restartPolicy, java.util.List<String> portBindings) {

    public ContainerState {
        portBindings = portBindings == null ? java.util.List.of() : java.util.List.copyOf(portBindings);
    }

    public static ContainerState stopped(String name) {
        return new ContainerState(name, false, "exited", 0, false, "", "", "no", java.util.List.of());
    }

    /** One line describing why the container is not running (exit code, OOM kill, error). */
    public String describeExit() {
        StringBuilder sb = new StringBuilder("container ").append(name).append(' ').append(status);
        sb.append(" (exit code ").append(exitCode).append(')');
        if (oomKilled) sb.append(", OOM-killed");
        if (error != null && !error.isEmpty()) sb.append(": ").append(error);
        return sb.toString();
    }
}
