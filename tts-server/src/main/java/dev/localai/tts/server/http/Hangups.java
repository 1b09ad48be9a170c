package dev.localai.tts.server.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Learns that a client closed its TCP connection while the server writes nothing to it: during a whole file's
 * synthesis, or between two blocks of a stream. A write only finds out at the next block (0.3-2.6 s after the client
 * left, on a 2-core EPYC), a whole file only at its end, and until then the generation takes the cores from the
 * requests after it. The kernel's socket table knows at once: a connection whose peer has closed its side (its FIN
 * arrived) is in {@code CLOSE_WAIT}, and one it reset is gone from the table. Every {@code period} this reads the
 * table ({@code /proc/self/net/tcp} and {@code tcp6}: Linux) and runs a watched connection's hang-up action once,
 * when its entry is in {@code CLOSE_WAIT}, or gone ({@link #MISSES} sweeps in a row) after it was seen (when the
 * watch began, or by a sweep).
 *
 * <p>Like Go's HTTP server, which reads the connection in the background to the same end, this takes a client that
 * closes its sending side while it still reads (a half-close, which HTTP/1.1 clients do not do) for one that left.
 * Where the table cannot be read (another OS, a sandbox) nothing is watched and a write finds out as before; so too
 * for a connection that never shows up in it (behind a PROXY-protocol balancer, whose address the request reports).
 * Reading a table costs a walk of the kernel's whole connection hash however few connections it lists (3.5-3.7 ms on
 * a 2-core AMD EPYC Zen 4 VM with 262144 buckets), so a sweep reads only the table that lists the watched connections
 * (one, normally), and none while nothing is watched. Thread-safe; the actions run on the watcher's one daemon
 * thread, so they must be quick.
 */
public final class Hangups implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Hangups.class.getName());
    /** {@code tcp_states.h}: the peer has closed its side. */
    static final int CLOSE_WAIT = 0x08;
    /** The tables, IPv6 first (the JVM's sockets are IPv6 where the kernel has it, IPv4 clients mapped into it). */
    static final List<Path> TABLES = List.of(Path.of("/proc/self/net/tcp6"), Path.of("/proc/self/net/tcp"));

    /** What {@link #watch} returns: closing it stops the watch (idempotent). */
    public interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    private static final Watch NONE = () -> { };

    /** A connection as the socket table names it: the peer's address (IPv6 or IPv4-mapped) and port, our port. */
    record Key(String remote, int remotePort, int localPort) {}

    /**
     * Sweeps in a row that must miss a connection seen before for it to count as gone. The kernel prints the table a
     * page at a time, and a row can be skipped while connections come and go between two pages: with six requests
     * in parallel, a live one went unlisted for one sweep (and was cancelled) in 1 of 5 runs of their test class. A client's
     * reset is then noticed after three sweeps instead of one; its FIN, which no skip can fake, at the first.
     */
    static final int MISSES = 3;

    /** One watched connection. */
    private static final class Entry {
        final Runnable onHangup;
        /** Whether the table has shown the connection (only then does its absence mean it is gone). */
        volatile boolean seen;
        /** Sweeps in a row that did not list it since it was seen. */
        int misses;
        /** The table that listed it (a sweep reads only those), or null before one did. */
        volatile Path table;

        Entry(Runnable onHangup) {
            this.onHangup = onHangup;
        }
    }

    private final List<Path> tables;
    private final Map<Key, Entry> watched = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final boolean available;

    /** Reads the system's tables every {@code period}. */
    public Hangups(Duration period) {
        this(period, TABLES);
    }

    /** As {@link #Hangups(Duration)}, from {@code tables} (tests). */
    Hangups(Duration period, List<Path> tables) {
        this.tables = tables;
        this.available = tables.stream().anyMatch(Files::isReadable);
        if (!available) {
            LOG.fine("no socket table to read (" + tables + "): a client that leaves is noticed at the next write");
            this.timer = null;
            return;
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tts-hangups");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(10, period.toMillis());
        timer.scheduleWithFixedDelay(this::sweep, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Whether connections are watched at all here (a socket table can be read). */
    public boolean available() {
        return available;
    }

    /**
     * Runs {@code onHangup} once if the connection between {@code local} (ours) and {@code remote} (the client's)
     * is closed by the client before the returned watch is closed. A watch that cannot be kept (no table here, an
     * address that is not a TCP one) does nothing.
     */
    public Watch watch(SocketAddress local, SocketAddress remote, Runnable onHangup) {
        if (!available || !(local instanceof InetSocketAddress l) || !(remote instanceof InetSocketAddress r)
                || r.getAddress() == null) {
            return NONE;
        }
        Key key = new Key(canonical(r.getAddress()), r.getPort(), l.getPort());
        Entry entry = new Entry(onHangup);
        // seen now, a connection that the client resets before the next sweep counts as gone (its row goes at once)
        Found now = locate(key);
        entry.seen = now != null;
        entry.table = now == null ? null : now.table();
        watched.put(key, entry);
        return () -> watched.remove(key, entry);
    }

    /** Connections watched now. */
    int watching() {
        return watched.size();
    }

    /** One look at the tables: runs the actions of the connections found closed (the timer's task; tests call it). */
    void sweep() {
        if (watched.isEmpty()) {
            return;
        }
        // each table costs a walk of the kernel's whole connection hash (3.5-3.7 ms on a 2-core EPYC VM with 262144
        // buckets, however few connections it lists): only the ones that list a watched connection are read
        Set<Path> from = new LinkedHashSet<>();
        for (Entry e : watched.values()) {
            Path t = e.table;
            if (t == null) {
                from.addAll(tables);
                break;
            }
            from.add(t);
        }
        Map<Key, Found> found = read(watched.keySet(), from);
        if (found == null) {
            return; // nothing is concluded from a table not read
        }
        watched.forEach((key, entry) -> {
            Found f = found.get(key);
            Integer state = f == null ? null : f.state();
            if (f != null && entry.table == null) {
                entry.table = f.table();
            }
            if (state != null && state != CLOSE_WAIT) {
                entry.seen = true;
                entry.misses = 0;
            } else if (state != null || (entry.seen && ++entry.misses >= MISSES)) {
                if (watched.remove(key, entry)) {
                    LOG.fine(() -> "client " + key + " closed its connection: its request is cancelled");
                    try {
                        entry.onHangup.run();
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "hang-up action failed", e);
                    }
                }
            }
        });
    }

    /** A watched connection as a table lists it: its state, and which table. */
    private record Found(int state, Path table) {}

    /** The connection {@code key} in the first table that lists it, or null. */
    private Found locate(Key key) {
        for (Path table : tables) {
            Map<Key, Found> f = read(Set.of(key), List.of(table));
            if (f != null && f.containsKey(key)) {
                return f.get(key);
            }
        }
        return null;
    }

    /** The {@code keys} the tables {@code from} list, or null where a table could not be read. */
    private static Map<Key, Found> read(Set<Key> keys, Collection<Path> from) {
        Map<Key, Found> states = new HashMap<>();
        try {
            for (Path table : from) {
                if (Files.isReadable(table)) {
                    try (BufferedReader in = Files.newBufferedReader(table, StandardCharsets.US_ASCII)) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            Row row = parse(line);
                            if (row != null && keys.contains(row.key())) {
                                // a tuple listed twice (an old one in TIME_WAIT): any live state wins, so that a
                                // doubt never cancels a request
                                states.merge(row.key(), new Found(row.state(), table),
                                        (a, b) -> a.state() != CLOSE_WAIT ? a : b);
                            }
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "socket table unreadable this time", e);
            return null;
        }
        return states;
    }

    /** One row of a socket table: the connection and its state. */
    record Row(Key key, int state) {}

    /**
     * A row of {@code /proc/net/tcp} or {@code tcp6} (pure logic), or null for the header and anything else:
     * {@code sl local_address rem_address st ...}, an address as the kernel's 32-bit words in hex, each in the
     * machine's byte order, then {@code :} and the port in hex.
     */
    static Row parse(String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4 || !f[0].endsWith(":")) {
            return null;
        }
        try {
            String[] local = f[1].split(":");
            String[] remote = f[2].split(":");
            if (local.length != 2 || remote.length != 2 || address(local[0]) == null) {
                return null;
            }
            byte[] address = address(remote[0]);
            if (address == null) {
                return null;
            }
            return new Row(new Key(HexFormat.of().formatHex(address), Integer.parseInt(remote[1], 16),
                    Integer.parseInt(local[1], 16)), Integer.parseInt(f[3], 16));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A table's address as 16 bytes (IPv4 mapped into IPv6), or null. */
    static byte[] address(String hex) {
        if (hex.length() != 8 && hex.length() != 32) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < hex.length(); i += 8) {
            b.putInt((int) Long.parseLong(hex.substring(i, i + 8), 16));
        }
        return mapped(b.array());
    }

    /** The address as the table's key names it: IPv6, an IPv4 address mapped into IPv6. */
    static String canonical(InetAddress a) {
        return HexFormat.of().formatHex(mapped(a.getAddress()));
    }

    private static byte[] mapped(byte[] a) {
        if (a.length == 16) {
            return a;
        }
        byte[] m = new byte[16];
        m[10] = (byte) 0xff;
        m[11] = (byte) 0xff;
        System.arraycopy(a, 0, m, 12, 4);
        return m;
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        watched.clear();
    }
}
