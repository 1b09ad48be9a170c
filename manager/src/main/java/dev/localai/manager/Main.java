package dev.localai.manager;

import dev.localai.manager.api.ManagerServer;
import dev.localai.manager.config.ConfigException;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.docker.CliContainerRuntime;
import dev.localai.manager.gaming.StateStore;
import dev.localai.manager.lifecycle.HttpHealthProbe;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.observe.EventBus;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.vram.GpuProbe;
import dev.localai.manager.vram.NvidiaSmiProbe;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * Entry point of the manager daemon:
 * {@code java -jar manager.jar --config models.json [--listen 127.0.0.1:8000] [--docker PATH] [--state-dir DIR]
 * [--allow-insecure]}.
 */
public final class Main {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");

    private Main() {}

    /** Parsed command line. */
    public record Args(Path config, String listen, String docker, Path stateDir, boolean allowInsecure) {}

    static final String USAGE = "usage: java -jar manager.jar --config models.json [--listen 127.0.0.1:8000] "
            + "[--docker PATH_TO_DOCKER_CLI] [--state-dir DIR] [--allow-insecure]";

    public static Args parse(String[] argv) {
        Path config = null;
        String listen = null;
        String docker = null;
        Path state = null;
        boolean insecure = false;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "--config", "-c" -> config = Path.of(v != null ? v : next(argv, ++i, a));
                case "--listen" -> listen = v != null ? v : next(argv, ++i, a);
                case "--docker" -> docker = v != null ? v : next(argv, ++i, a);
                case "--state-dir" -> state = Path.of(v != null ? v : next(argv, ++i, a));
                case "--allow-insecure" -> insecure = true;
                case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
            }
        }
        if (config == null) throw new IllegalArgumentException("--config is required\n" + USAGE);
        return new Args(config, listen, docker, state, insecure);
    }

    private static String next(String[] argv, int i, String opt) {
        if (i >= argv.length) throw new IllegalArgumentException(opt + " needs a value\n" + USAGE);
        return argv[i];
    }

    /** A running manager (for Main and end-to-end tests). */
    public record Running(ModelManager manager, ManagerServer server) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
            manager.close();
        }
    }

    public static Running run(Args args, ModelManager.Options opts) {
        ManagerConfig cfg = ConfigLoader.load(args.config());
        cfg.warnings().forEach(LOG::warning);
        String listen = args.listen() != null ? args.listen() : cfg.server().listen();
        String host = ConfigLoader.parseListen(listen, "--listen")[0];
        ManagerServer.checkListenSecurity(host, cfg, args.allowInsecure());
        Path stateFile = args.stateDir() != null ? args.stateDir().resolve("manager-state.json")
                : cfg.gaming().stateFile() != null ? cfg.gaming().stateFile() : Path.of("manager-state.json");
        Metrics metrics = new Metrics();
        String docker = args.docker() != null ? args.docker() : cfg.docker().binary();
        CliContainerRuntime runtime = new CliContainerRuntime(docker, cfg.docker().commandTimeout(), cfg.docker().env(),
                (op, result, nanos) -> {
                    metrics.observe("manager_docker_command_seconds", "docker CLI command duration",
                            Metrics.labels("op", op, "result", result), nanos / 1e9);
                });
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(cfg.server().upstreamConnectTimeout())
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        GpuProbe gpu = "none".equals(cfg.gpu().probe()) ? GpuProbe.none() : new NvidiaSmiProbe(cfg.gpu().probe());
        ModelManager manager = new ModelManager(cfg, runtime, new HttpHealthProbe(client), gpu, new StateStore(stateFile),
                new EventBus(), metrics, opts);
        manager.boot();
        ManagerServer server = new ManagerServer(manager, client).start(listen);
        return new Running(manager, server);
    }

    /**
     * The system property naming the JVM archive this run writes at exit, set by the launcher ({@code tts_cds_flags}
     * in {@code bin/jvm-env.sh}; the same property as tts-core's {@code runtime.JvmArchive}, which the manager does
     * not depend on).
     */
    static final String JVM_ARCHIVE_PROPERTY = "localai.tts.jvmArchive";

    /**
     * Marks this run's JVM archive, if it writes one, to be discarded ({@code NAME.discard}): a run that only printed
     * its usage or failed to start loaded few of the classes a running manager needs, and the launcher's next start
     * would otherwise map that archive. A mark that cannot be written is ignored.
     */
    static void discardJvmArchive() {
        String archive = System.getProperty(JVM_ARCHIVE_PROPERTY);
        if (archive == null || archive.isBlank()) {
            return;
        }
        try {
            java.nio.file.Files.writeString(Path.of(archive + ".discard"), "");
        } catch (java.io.IOException | RuntimeException e) {
            // kept: later starts map fewer classes than they could, nothing worse
        }
    }

    public static void main(String[] argv) {
        if (argv.length == 1 && (argv[0].equals("--help") || argv[0].equals("-h"))) {
            System.out.println(USAGE);
            discardJvmArchive();
            return;
        }
        Args args;
        try {
            args = parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            discardJvmArchive();
            System.exit(2);
            return;
        }
        try {
            Running r = run(args, ModelManager.Options.defaults());
            CountDownLatch done = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                LOG.info("shutting down (containers are left as they are)");
                r.close();
                done.countDown();
            }));
            done.await();
        } catch (ConfigException e) {
            System.err.println("models.json: " + e.getMessage());
            discardJvmArchive();
            System.exit(2);
        } catch (IllegalStateException e) {
            System.err.println(e.getMessage());
            discardJvmArchive();
            System.exit(2);
        } catch (RuntimeException e) {
            System.err.println("manager failed to start: " + e.getMessage());
            discardJvmArchive();
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
