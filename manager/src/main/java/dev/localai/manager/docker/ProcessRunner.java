package dev.localai.manager.docker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command from an argument list (never through a shell), drains stdout and stderr concurrently
 * (bounded), and kills it at a timeout.
 */
public final class ProcessRunner {
    /** Output kept per stream; the rest is drained and dropped so the child never blocks on a full pipe. */
    static final int MAX_CAPTURE = 4 * 1024 * 1024;

    public record Result(int exit, String stdout, String stderr) {}

    private final Map<String, String> env;

    public ProcessRunner(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    public ProcessBuilder builder(List<String> argv) {
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        return pb;
    }

    /** Runs argv; IOException when it cannot be launched; {@link DockerException.Kind#TIMEOUT} on timeout. */
    public Result run(List<String> argv, Duration timeout) throws IOException, DockerException {
        Process p = builder(argv).start();
        p.getOutputStream().close();
        Drain out = new Drain(p.getInputStream());
        Drain err = new Drain(p.getErrorStream());
        Thread to = Thread.ofVirtual().start(out);
        Thread te = Thread.ofVirtual().start(err);
        boolean done;
        try {
            done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            throw new DockerException(DockerException.Kind.TIMEOUT, String.join(" ", argv) + " interrupted");
        }
        if (!done) {
            kill(p);
            throw new DockerException(DockerException.Kind.TIMEOUT,
                    String.join(" ", argv) + " did not finish within " + timeout.toMillis() + " ms (killed)");
        }
        try {
            to.join(2000);
            te.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new Result(p.exitValue(), out.text(), err.text());
    }

    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroy();
        try {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static final class Drain implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Drain(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] b = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(b)) >= 0) {
                    synchronized (buf) {
                        if (buf.size() < MAX_CAPTURE) buf.write(b, 0, Math.min(n, MAX_CAPTURE - buf.size()));
                    }
                }
            } catch (IOException e) {
                // process killed: keep what we have
            }
        }

        String text() {
            synchronized (buf) {
                return buf.toString(java.nio.charset.StandardCharsets.UTF_8);
            }
        }
    }
}
