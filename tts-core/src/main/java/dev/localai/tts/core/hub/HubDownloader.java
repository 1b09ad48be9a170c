package dev.localai.tts.core.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves a model repository snapshot into the local Hugging Face cache, downloading what is missing.
 *
 * <p>Per file it asks the hub for metadata ({@code HEAD /{repo}/resolve/{rev}/{file}}, not following the redirect to
 * the CDN), reuses the cached snapshot entry when there is one, and otherwise downloads into
 * {@code blobs/<etag>.incomplete} (resuming with {@code Range} after a broken connection, also across runs), checks
 * the bytes against the ETag (sha256 for LFS files, git blob sha1 for small files), renames atomically into
 * {@code blobs/<etag>} and links {@code snapshots/<commit>/<file>} to it. The bearer token goes to the hub's own host
 * only, never to the CDN a redirect points at.
 */
public final class HubDownloader {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final String USER_AGENT = "localai-tts/0.1 (java)";

    private final HubCache cache;
    private final HubOptions options;

    public HubDownloader(HubCache cache, HubOptions options) {
        this.cache = cache;
        this.options = options;
    }

    public HubCache cache() {
        return cache;
    }

    /** What the hub says about one file. */
    record FileMeta(String commit, String etag, long size, URI location) {}

    /**
     * Makes sure every file of {@code files} is in the cache for {@code revision} and returns the snapshot directory
     * holding them.
     */
    public Path download(String repo, String revision, List<String> files) {
        HubCache.checkRepo(repo);
        if (options.offline()) {
            return cachedOrFail(repo, revision, files, HubException.Kind.OFFLINE,
                    "offline mode (HF_HUB_OFFLINE or --offline) is on", null);
        }
        String commit = null;
        String rev = revision;
        for (String file : files) {
            FileMeta meta;
            try {
                meta = head(repo, rev, file);
            } catch (Unreachable u) {
                Optional<Path> cached = cache.find(repo, revision, files);
                if (cached.isPresent()) {
                    note("cannot reach " + options.endpoint() + " (" + u.getMessage() + "); using the cached files in "
                            + cached.get());
                    return cached.get();
                }
                return cachedOrFail(repo, revision, files, HubException.Kind.UNREACHABLE,
                        "cannot reach the model hub at " + options.endpoint() + " (" + u.getMessage() + ")", u);
            }
            if (commit == null) {
                commit = meta.commit();
                rev = commit; // pin the rest of the files to the same commit
            }
            try {
                fetchFile(repo, commit, file, meta);
            } catch (IOException e) {
                throw new HubException(HubException.Kind.IO, "cannot write " + file + " into the cache "
                        + cache.root() + ": " + e.getMessage(), e);
            }
        }
        if (commit == null) {
            throw new IllegalArgumentException("no files requested");
        }
        try {
            cache.writeRef(repo, revision, commit);
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "cannot write refs/" + revision + " in " + cache.root(), e);
        }
        return cache.snapshotDir(repo, commit);
    }

    private Path cachedOrFail(String repo, String revision, List<String> files, HubException.Kind kind, String why,
            Throwable cause) {
        Optional<String> commit = cache.resolveRevision(repo, revision);
        String hint = kind == HubException.Kind.OFFLINE
                ? "Run `tts download` once while online, or unset HF_HUB_OFFLINE."
                : "Check the network connection (or set HF_ENDPOINT to a reachable mirror), or copy the files into "
                        + "that cache directory.";
        if (commit.isEmpty()) {
            throw new HubException(kind, why + ", and revision '" + revision + "' of " + repo
                    + " is not in the local cache " + cache.repoDir(repo) + ". " + hint, cause);
        }
        List<String> missing = cache.missing(repo, commit.get(), files);
        if (!missing.isEmpty()) {
            throw new HubException(kind, why + ", and " + missing + " of " + repo + " are missing from the local cache "
                    + cache.snapshotDir(repo, commit.get()) + ". " + hint, cause);
        }
        return cache.snapshotDir(repo, commit.get());
    }

    private void note(String s) {
        if (options.progress() != null) {
            options.progress().println(s);
        }
    }

    private void fetchFile(String repo, String commit, String file, FileMeta meta) throws IOException {
        Path pointer = cache.snapshotDir(repo, commit).resolve(file);
        Path blob = cache.blobPath(repo, meta.etag());
        if (Files.isRegularFile(pointer) && Files.isRegularFile(blob)) {
            return;
        }
        Files.createDirectories(blob.getParent());
        Path lockFile = cache.lockPath(repo, meta.etag());
        Files.createDirectories(lockFile.getParent());
        try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockChannel.lock()) {
            if (!Files.isRegularFile(blob)) {
                downloadBlob(file, meta, blob);
            }
            cache.link(repo, commit, file, blob);
        }
    }

    private void downloadBlob(String file, FileMeta meta, Path blob) throws IOException {
        Path part = blob.resolveSibling(blob.getFileName() + ".incomplete");
        ProgressBar bar = null;
        IOException last = null;
        for (int attempt = 1; attempt <= options.maxAttempts(); attempt++) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (meta.size() >= 0 && have > meta.size()) {
                Files.delete(part);
                have = 0;
            }
            if (bar == null) {
                bar = new ProgressBar(options.progress(), file, meta.size(), have);
            } else {
                bar.reset(have);
            }
            if (meta.size() >= 0 && have == meta.size()) {
                break;
            }
            try {
                transfer(meta.location(), part, have, bar);
                if (meta.size() < 0 || Files.size(part) == meta.size()) {
                    last = null;
                    break;
                }
                last = new IOException("connection closed after " + Files.size(part) + " of " + meta.size()
                        + " bytes");
            } catch (Unreachable | IOException e) {
                last = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            }
            if (attempt < options.maxAttempts()) {
                try {
                    Thread.sleep(Math.min(4000, 100L << attempt));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new HubException(HubException.Kind.INTERRUPTED, "download of " + file + " interrupted", ie);
                }
            }
        }
        if (last != null) {
            if (bar != null) {
                bar.finish();
            }
            throw new HubException(HubException.Kind.INTERRUPTED, "download of " + file + " broke off "
                    + options.maxAttempts() + " times (" + last.getMessage() + "); run the command again to resume "
                    + "from " + ProgressBar.human(Files.exists(part) ? Files.size(part) : 0), last);
        }
        bar.finish();
        verify(file, meta, part);
        Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void verify(String file, FileMeta meta, Path part) throws IOException {
        String etag = meta.etag().toLowerCase(Locale.ROOT);
        String algo;
        byte[] prefix = null;
        if (etag.matches("[0-9a-f]{64}")) {
            algo = "SHA-256";
        } else if (etag.matches("[0-9a-f]{40}")) {
            algo = "SHA-1"; // git blob id: sha1("blob <size>\0" + content)
            prefix = ("blob " + Files.size(part) + "\0").getBytes(StandardCharsets.US_ASCII);
        } else {
            return; // an opaque ETag cannot be checked
        }
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algo);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (prefix != null) {
            md.update(prefix);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(part)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        String got = HexFormat.of().formatHex(md.digest());
        if (!got.equals(etag)) {
            Files.deleteIfExists(part);
            throw new HubException(HubException.Kind.CHECKSUM, "downloaded " + file + " is corrupt: "
                    + (algo.equals("SHA-256") ? "sha256" : "git sha1") + " " + got + " but the hub says " + etag
                    + "; the partial file was removed, run the command again to download it afresh");
        }
    }

    /** A connection could not be opened at all. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private boolean sameOrigin(URI u) {
        URI e = options.endpoint();
        return u.getScheme().equalsIgnoreCase(e.getScheme()) && u.getHost().equalsIgnoreCase(e.getHost())
                && port(u) == port(e);
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private HttpURLConnection open(URI uri, String method) throws Unreachable {
        try {
            HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
            c.setInstanceFollowRedirects(false);
            c.setRequestMethod(method);
            c.setConnectTimeout((int) options.connectTimeout().toMillis());
            c.setReadTimeout((int) options.readTimeout().toMillis());
            c.setRequestProperty("User-Agent", USER_AGENT);
            c.setRequestProperty("Accept-Encoding", "identity");
            if (options.token() != null && sameOrigin(uri)) {
                c.setRequestProperty("Authorization", "Bearer " + options.token());
            }
            return c;
        } catch (IOException | IllegalArgumentException e) {
            throw new Unreachable(uri + ": " + e.getMessage(), e);
        }
    }

    /** Sends the request; connection-level failures become {@link Unreachable}. */
    private int status(HttpURLConnection c) throws Unreachable, IOException {
        try {
            return c.getResponseCode();
        } catch (UnknownHostException e) {
            throw new Unreachable("unknown host " + e.getMessage(), e);
        } catch (ConnectException | NoRouteToHostException e) {
            throw new Unreachable(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        } catch (SocketTimeoutException e) {
            throw new Unreachable("timed out: " + e.getMessage(), e);
        } catch (javax.net.ssl.SSLException e) {
            throw new Unreachable("TLS failure: " + e.getMessage(), e);
        }
    }

    static String encodePath(String file) {
        StringBuilder sb = new StringBuilder();
        for (String seg : file.split("/")) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(URLEncoder.encode(seg, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return sb.toString();
    }

    FileMeta head(String repo, String revision, String file) throws Unreachable {
        URI uri = URI.create(options.endpoint() + "/" + repo + "/resolve/"
                + URLEncoder.encode(revision, StandardCharsets.UTF_8) + "/" + encodePath(file));
        for (int hop = 0; hop < 5; hop++) {
            HttpURLConnection c = open(uri, "HEAD");
            try {
                int code = status(c);
                String location = c.getHeaderField("Location");
                if (code >= 300 && code < 400 && location != null) {
                    URI target = uri.resolve(location);
                    if (sameOrigin(target) && c.getHeaderField("X-Linked-Etag") == null) {
                        uri = target; // a renamed repository: follow, then ask again
                        continue;
                    }
                }
                if (code >= 400) {
                    throw hubError(code, c.getHeaderField("X-Error-Code"), c.getHeaderField("X-Error-Message"),
                            repo, revision, file);
                }
                String commit = c.getHeaderField("X-Repo-Commit");
                String etag = c.getHeaderField("X-Linked-Etag");
                if (etag == null) {
                    etag = c.getHeaderField("ETag");
                }
                String size = c.getHeaderField("X-Linked-Size");
                if (size == null) {
                    size = c.getHeaderField("Content-Length");
                }
                if (commit == null || etag == null) {
                    throw new HubException(HubException.Kind.HUB_ERROR, options.endpoint() + " answered HTTP " + code
                            + " for " + file + " without X-Repo-Commit/ETag headers: is HF_ENDPOINT a Hugging Face "
                            + "hub?");
                }
                URI download = code >= 300 && code < 400 && location != null ? uri.resolve(location) : uri;
                return new FileMeta(commit.trim(), normalizeEtag(etag), size == null ? -1 : Long.parseLong(size.trim()),
                        download);
            } catch (IOException e) {
                throw new Unreachable(e.getMessage(), e);
            } finally {
                c.disconnect();
            }
        }
        throw new HubException(HubException.Kind.HUB_ERROR, "too many redirects for " + file);
    }

    static String normalizeEtag(String etag) {
        String e = etag.trim();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    private HubException hubError(int code, String errorCode, String errorMessage, String repo, String revision,
            String file) {
        String what = switch (code) {
            case 401, 403 -> "access denied (HTTP " + code + "): the repository " + repo
                    + " may be gated or private; set HF_TOKEN to a token that has access";
            case 404 -> {
                if ("RevisionNotFound".equals(errorCode)) {
                    yield "revision '" + revision + "' does not exist in " + repo;
                } else if ("RepoNotFound".equals(errorCode)) {
                    yield "repository " + repo + " does not exist (or needs HF_TOKEN)";
                } else {
                    yield "file " + file + " not found in " + repo + " at revision " + revision;
                }
            }
            case 429 -> "the hub is rate limiting requests (HTTP 429); try again later";
            default -> "the hub answered HTTP " + code + " for " + file;
        };
        if (errorMessage != null && !errorMessage.isBlank()) {
            what += " (" + errorMessage + ")";
        }
        return new HubException(HubException.Kind.HUB_ERROR, what);
    }

    /** Appends the bytes of {@code uri} from offset {@code have} onwards to {@code part}. */
    private void transfer(URI uri, Path part, long have, ProgressBar bar) throws IOException, Unreachable {
        for (int hop = 0; hop < 10; hop++) {
            HttpURLConnection c = open(uri, "GET");
            try {
                if (have > 0) {
                    c.setRequestProperty("Range", "bytes=" + have + "-");
                }
                int code = status(c);
                if (code >= 300 && code < 400 && c.getHeaderField("Location") != null) {
                    uri = uri.resolve(c.getHeaderField("Location"));
                    continue;
                }
                boolean append;
                if (code == 206) {
                    Matcher m = CONTENT_RANGE.matcher(String.valueOf(c.getHeaderField("Content-Range")));
                    if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                        throw new IOException("server sent range " + c.getHeaderField("Content-Range")
                                + " when asked for bytes " + have + "-");
                    }
                    append = true;
                } else if (code == 200) {
                    append = false; // no range support: start over
                    bar.reset(0);
                } else if (code == 416) {
                    Files.deleteIfExists(part); // our partial file is longer than the remote one: start over
                    throw new IOException("range not satisfiable; restarting");
                } else {
                    throw new IOException("HTTP " + code + " from " + uri.getHost());
                }
                try (InputStream in = c.getInputStream();
                     OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                             append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                    byte[] buf = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        bar.advance(n);
                    }
                }
                return;
            } finally {
                c.disconnect();
            }
        }
        throw new IOException("too many redirects from " + uri);
    }
}
