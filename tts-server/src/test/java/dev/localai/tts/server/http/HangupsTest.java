package dev.localai.tts.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clients that close their connection, as the kernel's socket table shows them ({@link Hangups}). */
class HangupsTest {
    private static final Duration PERIOD = Duration.ofMillis(20);
    /** Long enough for many sweeps: what has not fired by then is not going to. */
    private static final long QUIET_MS = 300;

    @Test
    void readsTheKernelsRowsOfBothTables() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "rows as an x86 or ARM kernel prints them");
        // 127.0.0.1:8080 <- 127.0.0.1:50000, established; then the same over IPv6 loopback, and an IPv4 client of a
        // dual-stack socket (::ffff:127.0.0.1), both with the peer's side closed
        Hangups.Row v4 = Hangups.parse("   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000"
                + "     0        0 12345 1 0000000000000000 20 4 30 10 -1");
        assertThat(v4).isNotNull();
        assertThat(v4.key()).isEqualTo(new Hangups.Key(canonical("127.0.0.1"), 50000, 8080));
        assertThat(v4.state()).isEqualTo(0x01);
        Hangups.Row v6 = Hangups.parse("   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C351"
                + " 08 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 0 10 -1");
        assertThat(v6.key()).isEqualTo(new Hangups.Key(canonical("::1"), 50001, 8080));
        assertThat(v6.state()).isEqualTo(Hangups.CLOSE_WAIT);
        Hangups.Row mapped = Hangups.parse("   2: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:"
                + "C352 08 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 0 10 -1");
        assertThat(mapped.key()).isEqualTo(new Hangups.Key(canonical("127.0.0.1"), 50002, 8080));
    }

    @Test
    void skipsTheHeaderAndAnythingElse() {
        assertThat(Hangups.parse("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"))
                .isNull();
        assertThat(Hangups.parse("")).isNull();
        assertThat(Hangups.parse("0: zz:1F90 0100007F:C350 01")).isNull();
        assertThat(Hangups.parse("0: 0100007F:1F90 0100:C350 01")).isNull();
    }

    @Test
    void firesOnceWhenThePeerClosesItsSide(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        Files.writeString(table, header() + row("10.0.0.7", 41000, 8080, 0x01));
        try (Hangups h = new Hangups(PERIOD, List.of(table))) {
            CountDownLatch fired = new CountDownLatch(2);
            h.watch(local(8080), remote("10.0.0.7", 41000), fired::countDown);
            assertThat(fired.await(QUIET_MS, TimeUnit.MILLISECONDS)).as("established: nothing").isFalse();
            Files.writeString(table, header() + row("10.0.0.7", 41000, 8080, Hangups.CLOSE_WAIT));
            assertThat(awaitCount(fired, 1)).as("the peer's FIN").isTrue();
            assertThat(fired.await(QUIET_MS, TimeUnit.MILLISECONDS)).as("once only").isFalse();
            assertThat(h.watching()).isZero();
        }
    }

    @Test
    void aConnectionGoneFromTheTableCountsOnlyOnceItWasSeen(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        Files.writeString(table, header());
        try (Hangups h = new Hangups(PERIOD, List.of(table))) {
            CountDownLatch fired = new CountDownLatch(1);
            h.watch(local(8080), remote("10.0.0.7", 41001), fired::countDown);
            assertThat(fired.await(QUIET_MS, TimeUnit.MILLISECONDS))
                    .as("never listed (a balancer's address, another namespace): never taken for gone").isFalse();
            Files.writeString(table, header() + row("10.0.0.7", 41001, 8080, 0x01));
            Thread.sleep(QUIET_MS);
            assertThat(fired.getCount()).isEqualTo(1);
            Files.writeString(table, header()); // reset by the peer: the kernel drops the socket's row
            assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aConnectionListedWhenTheWatchBeginsAndResetBeforeAnySweepIsGone(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        Files.writeString(table, header() + row("10.0.0.7", 41007, 8080, 0x01));
        try (Hangups h = new Hangups(Duration.ofMillis(200), List.of(table))) {
            CountDownLatch fired = new CountDownLatch(1);
            h.watch(local(8080), remote("10.0.0.7", 41007), fired::countDown);
            Files.writeString(table, header()); // gone before the first sweep could list it
            assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aRowTheKernelSkippedForFewerSweepsThanTheLimitIsNoHangup(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        String live = header() + row("10.0.0.7", 41008, 8080, 0x01);
        Files.writeString(table, live);
        try (Hangups h = new Hangups(Duration.ofHours(1), List.of(table))) { // swept by hand only
            CountDownLatch fired = new CountDownLatch(1);
            h.watch(local(8080), remote("10.0.0.7", 41008), fired::countDown);
            for (int round = 0; round < 3; round++) {
                Files.writeString(table, header()); // a page boundary skipped the row
                for (int i = 1; i < Hangups.MISSES; i++) {
                    h.sweep();
                }
                Files.writeString(table, live);
                h.sweep();
            }
            assertThat(fired.getCount()).as("a live connection, listed again").isEqualTo(1);
            Files.writeString(table, header());
            for (int i = 1; i < Hangups.MISSES; i++) {
                h.sweep();
            }
            assertThat(fired.getCount()).isEqualTo(1);
            h.sweep();
            assertThat(fired.getCount()).as("gone for %d sweeps in a row", Hangups.MISSES).isZero();
        }
    }

    @Test
    void anyLiveRowOfATupleListedTwiceWins(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        Files.writeString(table, header() + row("10.0.0.7", 41002, 8080, Hangups.CLOSE_WAIT)
                + row("10.0.0.7", 41002, 8080, 0x06));
        try (Hangups h = new Hangups(PERIOD, List.of(table))) {
            CountDownLatch fired = new CountDownLatch(1);
            h.watch(local(8080), remote("10.0.0.7", 41002), fired::countDown);
            assertThat(fired.await(QUIET_MS, TimeUnit.MILLISECONDS)).isFalse();
        }
    }

    @Test
    void aClosedWatchNeverFiresAndOtherConnectionsDoNotCount(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        Files.writeString(table, header() + row("10.0.0.7", 41003, 8080, 0x01) + row("10.0.0.7", 41004, 8080, 0x01));
        try (Hangups h = new Hangups(PERIOD, List.of(table))) {
            CountDownLatch first = new CountDownLatch(1);
            CountDownLatch second = new CountDownLatch(1);
            Hangups.Watch w = h.watch(local(8080), remote("10.0.0.7", 41003), first::countDown);
            h.watch(local(8080), remote("10.0.0.7", 41004), second::countDown);
            Thread.sleep(QUIET_MS);
            w.close();
            w.close(); // idempotent
            Files.writeString(table, header() + row("10.0.0.7", 41003, 8080, Hangups.CLOSE_WAIT)
                    + row("10.0.0.7", 41004, 8080, 0x01) + row("10.0.0.7", 41005, 8080, Hangups.CLOSE_WAIT));
            assertThat(first.await(QUIET_MS, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(second.getCount()).isEqualTo(1);
            assertThat(h.watching()).isEqualTo(1);
        }
    }

    @Test
    void withoutATableNothingIsWatched(@TempDir Path dir) {
        try (Hangups h = new Hangups(PERIOD, List.of(dir.resolve("absent")))) {
            assertThat(h.available()).isFalse();
            Hangups.Watch w = h.watch(local(8080), remote("10.0.0.7", 41006), () -> { });
            assertThat(h.watching()).isZero();
            w.close();
        }
    }

    /** The real thing: this machine's table, loopback sockets over IPv4 and IPv6, a closing and a resetting peer. */
    @Test
    void seesRealClientsLeave() throws Exception {
        try (Hangups h = new Hangups(PERIOD)) {
            assumeTrue(h.available(), "no /proc/self/net/tcp here (not Linux)");
            for (InetAddress loopback : List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"))) {
                for (boolean reset : new boolean[] {false, true}) {
                    ServerSocket server;
                    try {
                        server = new ServerSocket(0, 1, loopback);
                    } catch (IOException e) {
                        continue; // no IPv6 loopback on this machine
                    }
                    try (server; Socket client = new Socket(loopback, server.getLocalPort());
                         Socket accepted = server.accept()) {
                        CountDownLatch fired = new CountDownLatch(1);
                        try (Hangups.Watch w = h.watch(accepted.getLocalSocketAddress(),
                                accepted.getRemoteSocketAddress(), fired::countDown)) {
                            assertThat(fired.await(QUIET_MS, TimeUnit.MILLISECONDS))
                                    .as("%s, connected", loopback).isFalse();
                            if (reset) {
                                client.setSoLinger(true, 0);
                            }
                            client.close();
                            assertThat(fired.await(5, TimeUnit.SECONDS))
                                    .as("%s, the client %s", loopback, reset ? "reset" : "closed").isTrue();
                        }
                    }
                }
            }
        }
    }

    /**
     * A live connection is never taken for gone while many others come and go (the kernel can skip a row between two
     * pages of its table then).
     */
    @Test
    void aLiveConnectionAmongManyComingAndGoingIsNoHangup() throws Exception {
        try (Hangups h = new Hangups(PERIOD)) {
            assumeTrue(h.available(), "no /proc/self/net/tcp here (not Linux)");
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            try (ServerSocket server = new ServerSocket(0, 200, loopback);
                 Socket client = new Socket(loopback, server.getLocalPort());
                 Socket accepted = server.accept()) {
                Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                    while (!server.isClosed()) {
                        try (Socket s = server.accept()) {
                            s.getInputStream().read();
                        } catch (IOException e) {
                            // closed
                        }
                    }
                });
                CountDownLatch fired = new CountDownLatch(1);
                List<Socket> open = new java.util.ArrayList<>();
                try (Hangups.Watch w = h.watch(accepted.getLocalSocketAddress(), accepted.getRemoteSocketAddress(),
                        fired::countDown)) {
                    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2000);
                    while (System.nanoTime() < end && fired.getCount() > 0) {
                        open.add(new Socket(loopback, server.getLocalPort()));
                        if (open.size() > 150) {
                            for (Socket s : open.subList(0, 100)) {
                                s.close();
                            }
                            open.subList(0, 100).clear();
                        }
                    }
                    assertThat(fired.getCount()).as("the watched connection is alive").isEqualTo(1);
                    client.close();
                    assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
                } finally {
                    for (Socket s : open) {
                        s.close();
                    }
                    server.close();
                    acceptor.join(5000);
                }
            }
        }
    }

    private static boolean awaitCount(CountDownLatch latch, long count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (latch.getCount() > count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return latch.getCount() <= count;
    }

    private static String header() {
        return "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    }

    /** A row as this machine's kernel would print it (its byte order), for IPv4 endpoints. */
    private static String row(String remote, int remotePort, int localPort, int state) {
        return String.format("   0: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000     0        0 0 1 "
                + "0000000000000000 20 4 30 10 -1%n", hex("0.0.0.0"), localPort, hex(remote), remotePort, state);
    }

    private static String hex(String ipv4) {
        try {
            byte[] a = InetAddress.getByName(ipv4).getAddress();
            int word = ByteBuffer.wrap(a).order(ByteOrder.nativeOrder()).getInt();
            return String.format("%08X", word);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String canonical(String literal) {
        try {
            return Hangups.canonical(InetAddress.getByName(literal));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InetSocketAddress local(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private static InetSocketAddress remote(String address, int port) {
        return new InetSocketAddress(address, port);
    }
}
