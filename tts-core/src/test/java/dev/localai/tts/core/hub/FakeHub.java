package dev.localai.tts.core.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for huggingface.co on 127.0.0.1: {@code /{repo}/resolve/{rev}/{file}} answers like the hub
 * (small files: 200 with a git-sha1 ETag; "LFS" files: 302 to a separate CDN server with X-Linked-Etag = sha256 and
 * X-Linked-Size), X-Repo-Commit on every answer, Range support on downloads, and fault injection.
 */
public final class FakeHub implements AutoCloseable {
    public static final String COMMIT = "749d1c1a46eb10492095d68fbcf55691ccf137cd";

    record Request(String server, String method, String path, String range, String authorization) {}

    private final HttpServer hub;
    private final HttpServer cdn;
    final String repo;
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** file name -> number of bytes after which the next GET of it drops the connection (once). */
    final Map<String, Integer> dropOnceAfter = new ConcurrentHashMap<>();
    /** file names served with one byte flipped (headers still carry the true checksum). */
    final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    final AtomicInteger gets = new AtomicInteger();

    public FakeHub(String repo) throws IOException {
        this.repo = repo;
        InetAddress lo = InetAddress.getLoopbackAddress();
        hub = HttpServer.create(new InetSocketAddress(lo, 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(lo, 0), 0);
        hub.createContext("/", ex -> handle(ex, "hub"));
        cdn.createContext("/", ex -> handle(ex, "cdn"));
        hub.start();
        cdn.start();
    }

    static boolean isLfs(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".pt");
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    public FakeHub put(String name, byte[] content) {
        files.put(name, content);
        return this;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitSha1(byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(md.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String etag(String file) {
        byte[] b = files.get(file);
        return isLfs(file) ? sha256(b) : gitSha1(b);
    }

    long count(String server, String method) {
        return requests.stream().filter(r -> r.server().equals(server) && r.method().equals(method)).count();
    }

    private void handle(HttpExchange ex, String server) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            requests.add(new Request(server, ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Range"),
                    ex.getRequestHeaders().getFirst("Authorization")));
            if (server.equals("cdn")) {
                String sha = path.substring(path.lastIndexOf('/') + 1);
                for (String f : files.keySet()) {
                    if (isLfs(f) && sha256(files.get(f)).equals(sha)) {
                        serveBody(ex, f);
                        return;
                    }
                }
                send(ex, 404, null);
                return;
            }
            String prefix = "/" + repo + "/resolve/";
            if (!path.startsWith(prefix)) {
                ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
                send(ex, 404, null);
                return;
            }
            String rest = path.substring(prefix.length());
            String rev = java.net.URLDecoder.decode(rest.substring(0, rest.indexOf('/')), StandardCharsets.UTF_8);
            String file = java.net.URLDecoder.decode(rest.substring(rest.indexOf('/') + 1), StandardCharsets.UTF_8);
            if (!rev.equals("main") && !rev.equals(COMMIT)) {
                ex.getResponseHeaders().add("X-Error-Code", "RevisionNotFound");
                send(ex, 404, null);
                return;
            }
            if (!files.containsKey(file)) {
                ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
                send(ex, 404, null);
                return;
            }
            ex.getResponseHeaders().add("X-Repo-Commit", COMMIT);
            if (isLfs(file)) {
                byte[] b = files.get(file);
                ex.getResponseHeaders().add("ETag", "\"" + gitSha1(("pointer " + file).getBytes()) + "\"");
                ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(b) + "\"");
                ex.getResponseHeaders().add("X-Linked-Size", Long.toString(b.length));
                ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort()
                        + "/repos/aa/bb/" + sha256(b) + "?X-Amz-Signature=x");
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().add("ETag", "\"" + gitSha1(files.get(file)) + "\"");
            serveBody(ex, file);
        }
    }

    private void serveBody(HttpExchange ex, String file) throws IOException {
        byte[] b = files.get(file).clone();
        if (corrupt.containsKey(file)) {
            b[b.length / 2] ^= 0x5a;
        }
        int from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        int status = 200;
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Integer.parseInt(range.substring(6, range.length() - 1));
            if (from >= b.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + b.length);
                send(ex, 416, null);
                return;
            }
            status = 206;
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
        }
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        int len = b.length - from;
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().add("Content-Length", Integer.toString(len));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        gets.incrementAndGet();
        ex.sendResponseHeaders(status, len);
        OutputStream os = ex.getResponseBody();
        Integer drop = dropOnceAfter.remove(file);
        if (drop != null) {
            os.write(b, from, drop);
            os.flush();
            // abandon the exchange mid-body: the server closes the connection short of Content-Length
            throw new IOException("dropping connection");
        }
        os.write(b, from, len);
    }

    private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body == null ? -1 : body.length);
        if (body != null) {
            ex.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
