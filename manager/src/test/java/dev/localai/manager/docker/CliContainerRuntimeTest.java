package dev.localai.manager.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.manager.testing.Scripts;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI runtime against fake {@code docker} executables: argv, draining, timeouts, classification. */
class CliContainerRuntimeTest {
    @TempDir
    Path tmp;

    /** A fake docker that records its argv (one line per call) and answers by sub-command. */
    private Path recordingDocker(String answers) throws Exception {
        return Scripts.write(tmp, "docker", "echo \"$@\" >> '" + tmp.resolve("argv") + "'\n" + answers);
    }

    private List<String> argv() throws Exception {
        Path f = tmp.resolve("argv");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    private CliContainerRuntime cli(Path docker, Duration timeout, List<String> observed) {
        return new CliContainerRuntime(docker.toString(), timeout, Map.of("FAKE_ENV", "passed"),
                (op, result, nanos) -> observed.add(op + ":" + result));
    }

    @Test
    void commandsAreArgumentListsAndInspectIsParsed() throws Exception {
        Path docker = recordingDocker("""
            case "$1" in
              inspect) echo '[{"State":{"Status":"exited","Running":false,"ExitCode":137,"OOMKilled":true,"Error":""},
                        "HostConfig":{"RestartPolicy":{"Name":"always"},"PortBindings":{"8000/tcp":[{"HostIp":"0.0.0.0","HostPort":"8006"}]}}}]' ;;
              ps) printf 'tts\\nllm\\n' ;;
              version) echo "$FAKE_ENV-28.2.2" ;;
            esac""");
        List<String> observed = new ArrayList<>();
        CliContainerRuntime cli = cli(docker, Duration.ofSeconds(10), observed);
        ContainerState st = cli.inspect("tts");
        assertThat(st.running()).isFalse();
        assertThat(st.exitCode()).isEqualTo(137);
        assertThat(st.oomKilled()).isTrue();
        assertThat(st.restartPolicy()).isEqualTo("always");
        assertThat(st.portBindings()).containsExactly("0.0.0.0:8006");
        assertThat(st.describeExit()).contains("exit code 137", "OOM-killed");
        cli.start("tts");
        cli.stop("tts", Duration.ofMillis(1500));
        assertThat(cli.running()).containsExactly("tts", "llm");
        assertThat(cli.ping()).as("configured environment reaches the CLI").isEqualTo("passed-28.2.2");
        assertThat(argv()).containsExactly("inspect --type container tts", "start tts", "stop -t 2 tts",
                "ps --format {{.Names}}", "version --format {{.Server.Version}}");
        assertThat(observed).containsExactly("inspect:ok", "start:ok", "stop:ok", "ps:ok", "version:ok");
    }

    @Test
    void failuresAreClassifiedFromStderr() throws Exception {
        Path docker = recordingDocker("""
            case "$2" in
              ghost) echo "Error response from daemon: No such container: ghost" >&2; exit 1 ;;
              busy) echo "Error response from daemon: driver failed programming external connectivity: Bind for 127.0.0.1:8006 failed: port is already allocated" >&2; exit 1 ;;
              *) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
            esac""");
        CliContainerRuntime cli = cli(docker, Duration.ofSeconds(10), new ArrayList<>());
        assertThatThrownBy(() -> cli.start("ghost")).isInstanceOfSatisfying(DockerException.class,
                e -> assertThat(e.kind()).isEqualTo(DockerException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> cli.start("busy")).isInstanceOfSatisfying(DockerException.class, e -> {
            assertThat(e.kind()).isEqualTo(DockerException.Kind.FAILED);
            assertThat(e.getMessage()).contains("port is already allocated", "exit 1");
        });
        assertThatThrownBy(() -> cli.start("other")).isInstanceOfSatisfying(DockerException.class,
                e -> assertThat(e.kind()).isEqualTo(DockerException.Kind.DAEMON_UNAVAILABLE));
    }

    @Test
    void aMissingBinaryIsDaemonUnavailable() {
        CliContainerRuntime cli = cli(tmp.resolve("no-such-docker"), Duration.ofSeconds(5), new ArrayList<>());
        assertThatThrownBy(cli::running).isInstanceOfSatisfying(DockerException.class, e -> {
            assertThat(e.kind()).isEqualTo(DockerException.Kind.DAEMON_UNAVAILABLE);
            assertThat(e.getMessage()).contains("cannot run");
        });
    }

    @Test
    void aHangingCommandIsKilledAtItsTimeout() throws Exception {
        Path pidFile = tmp.resolve("pid");
        Path docker = Scripts.write(tmp, "docker", "echo $$ > '" + pidFile + "'\nexec sleep 60");
        List<String> observed = new ArrayList<>();
        CliContainerRuntime cli = cli(docker, Duration.ofMillis(300), observed);
        assertThatThrownBy(() -> cli.inspect("tts")).isInstanceOfSatisfying(DockerException.class, e -> {
            assertThat(e.kind()).isEqualTo(DockerException.Kind.TIMEOUT);
            assertThat(e.getMessage()).contains("killed");
        });
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the CLI process is gone").isFalse();
        assertThat(observed).containsExactly("inspect:timeout");
    }

    @Test
    void largeOutputOnBothStreamsIsDrainedWithoutDeadlock() throws Exception {
        // 2 MiB on stdout and on stderr: a runner that waited before reading would block on the full pipes
        Path docker = Scripts.write(tmp, "docker",
                "head -c 2097152 /dev/zero | tr '\\\\0' 'a'\nhead -c 2097152 /dev/zero | tr '\\\\0' 'b' >&2\necho\necho tail-line");
        String logs = cli(docker, Duration.ofSeconds(20), new ArrayList<>()).logs("tts", 10);
        assertThat(logs).hasSizeGreaterThan(4 * 1024 * 1024).contains("tail-line");
    }

    @Test
    void followedLogsStreamUntilClosed() throws Exception {
        Path docker = Scripts.write(tmp, "docker", "echo first-line\nexec sleep 60");
        CliContainerRuntime cli = cli(docker, Duration.ofSeconds(5), new ArrayList<>());
        try (InputStream in = cli.followLogs("tts", 5)) {
            byte[] line = in.readNBytes("first-line\n".length());
            assertThat(new String(line, StandardCharsets.UTF_8)).isEqualTo("first-line\n");
        }
    }
}
