package dev.localai.tts.server.wyoming;

import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.Hangups;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.metrics.Metrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Wyoming TCP listener on the server's host and {@code wyoming.port}: one virtual thread per connection, at most
 * {@code wyoming.max-connections} at once (the next ones get an {@code error} event and are closed), a read timeout
 * of {@code wyoming.idle-timeout-s}, and the HTTP side's stall rule: a client that stops reading for
 * {@code server.stall-timeout-s} is cut off, which cancels its synthesis and frees the engine's slot.
 */
public final class WyomingServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WyomingServer.class.getName());
    /** A cap on the data or payload of one event, whatever {@code server.max-body-bytes} says. */
    private static final long MAX_EVENT_BYTES = 16L << 20;

    private final ServerConfig config;
    private final EngineSupervisor engines;
    private final Lifecycle lifecycle;
    private final TtsInfo info;
    private final AudioSender sender;
    private final Semaphore slots;
    private final Hangups hangups;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger speaking = new AtomicInteger();
    private volatile ServerSocket listener;
    private ScheduledExecutorService sweeper;

    /**
     * @param config    the server's configuration (host, {@code wyoming.*}, limits)
     * @param engines   the engine, once loaded
     * @param lifecycle refuses new syntheses while the server drains
     * @param metrics   where syntheses are counted (mode {@code wyoming})
     * @param hangups   cancels a synthesis whose client closed its connection
     */
    public WyomingServer(ServerConfig config, EngineSupervisor engines, Lifecycle lifecycle, Metrics metrics,
                         Hangups hangups) {
        this.config = config;
        this.hangups = hangups;
        this.engines = engines;
        this.lifecycle = lifecycle;
        this.info = new TtsInfo(config.speech().models().get(0), config.wyoming().languages(),
                WyomingServer.class.getPackage().getImplementationVersion());
        this.sender = new AudioSender(metrics);
        this.slots = new Semaphore(config.wyoming().maxConnections());
    }

    /**
     * Binds and starts accepting.
     *
     * @throws UncheckedIOException naming the address when the port cannot be bound (in use, no permission)
     */
    public synchronized WyomingServer start() {
        if (listener != null) {
            return this;
        }
        ServerSocket s;
        try {
            s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(config.host(), config.wyoming().port()), 50);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for Wyoming on " + config.host() + ":"
                    + config.wyoming().port() + ": " + e.getMessage(), e);
        }
        listener = s;
        long stallMillis = config.stallTimeout().toMillis();
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true)
                .name("tts-wyoming-stalls").unstarted(r));
        long period = Math.max(50, Math.min(1000, stallMillis / 4));
        sweeper.scheduleWithFixedDelay(() -> cutStalled(stallMillis), period, period, TimeUnit.MILLISECONDS);
        Thread.ofPlatform().daemon(true).name("tts-wyoming-accept").start(this::acceptLoop);
        LOG.info(() -> "Wyoming TTS listening on tcp://" + config.host() + ":" + port());
        if (!config.apiKeys().isEmpty()) {
            LOG.warning("the Wyoming protocol has no authentication: API keys do not apply to tcp://" + config.host()
                    + ":" + port() + "; anyone who can reach it can synthesise speech");
        }
        return this;
    }

    /** The port listened on (the bound one when configured as 0), or -1 before {@link #start()}. */
    public int port() {
        ServerSocket s = listener;
        return s == null ? -1 : s.getLocalPort();
    }

    private void acceptLoop() {
        ServerSocket s = listener;
        while (!s.isClosed()) {
            Socket socket;
            try {
                socket = s.accept();
            } catch (SocketException e) {
                return; // closed
            } catch (IOException e) {
                LOG.log(Level.WARNING, "Wyoming accept failed", e);
                continue;
            }
            boolean admitted = slots.tryAcquire();
            Thread.ofVirtual().name("tts-wyoming-" + socket.getPort()).start(() -> serve(socket, admitted));
        }
    }

    private void serve(Socket socket, boolean admitted) {
        Connection c;
        try {
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, config.wyoming().idleTimeout().toMillis()));
            socket.setTcpNoDelay(true);
            c = new Connection(socket, Math.min(config.maxBodyBytes(), MAX_EVENT_BYTES), out -> new WyomingSession(
                    config, engines, lifecycle,
                    info, sender, out, speaking::incrementAndGet, speaking::decrementAndGet,
                    action -> hangups.watch(socket.getLocalSocketAddress(), socket.getRemoteSocketAddress(), action)));
        } catch (IOException | RuntimeException e) {
            close(socket);
            if (admitted) {
                slots.release();
            }
            return;
        }
        if (!admitted || lifecycle.draining()) {
            c.refuse(admitted ? "shutting_down" : "too_many_connections", admitted
                    ? "The server is shutting down."
                    : "The server is serving " + config.wyoming().maxConnections()
                    + " Wyoming connections already; retry shortly.");
            c.close();
            if (admitted) {
                slots.release();
            }
            return;
        }
        open.add(c);
        try {
            c.run();
        } finally {
            open.remove(c);
            slots.release();
        }
    }

    private void cutStalled(long stallMillis) {
        long now = System.nanoTime();
        for (Connection c : open) {
            long since = c.blockedSince();
            if (since != 0 && now - since > stallMillis * 1_000_000L) {
                LOG.warning("a Wyoming client stopped reading for more than " + stallMillis / 1000
                        + " s; its connection is closed");
                c.close();
            }
        }
    }

    /** Waits until no synthesis is running or {@code timeout} passes; returns whether it became idle. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (speaking.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Stops listening and closes every connection (cancelling what they synthesise). Idempotent. */
    @Override
    public synchronized void close() {
        ServerSocket s = listener;
        if (s == null || s.isClosed()) {
            return;
        }
        close(s);
        sweeper.shutdownNow();
        open.forEach(Connection::close);
    }

    private static void close(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
