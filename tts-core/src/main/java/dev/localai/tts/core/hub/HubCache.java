package dev.localai.tts.core.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The huggingface_hub cache layout, shared with Python:
 *
 * <pre>
 * &lt;root&gt;/models--Owner--name/
 *     refs/&lt;revision&gt;                text file holding the commit hash the revision (e.g. main) points at
 *     blobs/&lt;etag&gt;                    file contents, named by the hub's ETag (sha256 for LFS files, git sha1 otherwise)
 *     snapshots/&lt;commit&gt;/&lt;file&gt;      relative symlinks to ../../blobs/&lt;etag&gt;
 * </pre>
 */
public final class HubCache {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    /**
     * The cache root the way huggingface_hub finds it: {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
     * {@code XDG_CACHE_HOME/huggingface/hub}, else {@code ~/.cache/huggingface/hub}.
     */
    public static HubCache fromEnvironment(Map<String, String> env, Path userHome) {
        return new HubCache(defaultRoot(env, userHome));
    }

    public static HubCache fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static Path defaultRoot(Map<String, String> env, Path userHome) {
        String hubCache = nonBlank(env.get("HF_HUB_CACHE"));
        if (hubCache == null) {
            hubCache = nonBlank(env.get("HUGGINGFACE_HUB_CACHE"));
        }
        if (hubCache != null) {
            return expand(hubCache, userHome);
        }
        return hfHome(env, userHome).resolve("hub");
    }

    /** {@code HF_HOME}, else {@code XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    static Path hfHome(Map<String, String> env, Path userHome) {
        String home = nonBlank(env.get("HF_HOME"));
        if (home != null) {
            return expand(home, userHome);
        }
        String xdg = nonBlank(env.get("XDG_CACHE_HOME"));
        return (xdg != null ? expand(xdg, userHome) : userHome.resolve(".cache")).resolve("huggingface");
    }

    private static Path expand(String p, Path userHome) {
        if (p.equals("~")) {
            return userHome;
        }
        if (p.startsWith("~/")) {
            return userHome.resolve(p.substring(2));
        }
        return Path.of(p);
    }

    static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    public Path root() {
        return root;
    }

    public static boolean isCommitHash(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    /** {@code models--Owner--name}. */
    public Path repoDir(String repo) {
        checkRepo(repo);
        return root.resolve("models--" + repo.replace("/", "--"));
    }

    static void checkRepo(String repo) {
        if (!repo.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("not a repository id of the form owner/name: " + repo);
        }
    }

    public Path snapshotDir(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    public Path blobPath(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    public Path lockPath(String repo, String etag) {
        return root.resolve(".locks").resolve(repoDir(repo).getFileName()).resolve(etag + ".lock");
    }

    /** The commit a revision names: itself when it is a commit hash, else the content of refs/&lt;revision&gt;. */
    public Optional<String> resolveRevision(String repo, String revision) {
        if (isCommitHash(revision)) {
            return Optional.of(revision);
        }
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        try {
            String c = Files.readString(ref, StandardCharsets.UTF_8).trim();
            return isCommitHash(c) ? Optional.of(c) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void writeRef(String repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        String current = Files.isRegularFile(ref) ? Files.readString(ref).trim() : null;
        if (!commit.equals(current)) {
            Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The files of {@code files} that are not (readably) present in the snapshot. */
    public List<String> missing(String repo, String commit, List<String> files) {
        List<String> missing = new ArrayList<>();
        Path snap = snapshotDir(repo, commit);
        for (String f : files) {
            if (!Files.isRegularFile(snap.resolve(f))) { // follows the symlink: a dangling link counts as missing
                missing.add(f);
            }
        }
        return missing;
    }

    /** The snapshot directory holding all of {@code files} for {@code revision}, if the cache has them. */
    public Optional<Path> find(String repo, String revision, List<String> files) {
        return resolveRevision(repo, revision)
                .filter(c -> missing(repo, c, files).isEmpty())
                .map(c -> snapshotDir(repo, c));
    }

    /**
     * Points snapshots/&lt;commit&gt;/&lt;file&gt; at the blob with a relative symlink (what huggingface_hub does); where
     * the file system has no symlinks the blob is copied instead.
     */
    public Path link(String repo, String commit, String file, Path blob) throws IOException {
        Path pointer = snapshotDir(repo, commit).resolve(file);
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer);
        Path target = pointer.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(pointer, target);
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
        return pointer;
    }
}
