package dev.localai.tts.core.voice;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Named voices on disk: each is a directory {@code <root>/<name>/} holding the reference clip as given
 * ({@code clip.<ext>}), {@code voice.properties} (its SHA-256, size, original file name, time added) and cached
 * conditionals {@code conds/<clip-sha256>-<revision-hash>.safetensors}, so conditionals are computed once per clip
 * content and model revision and then reused (also across restarts).
 *
 * <ul>
 *   <li>Names are validated ({@link #validateName}): letters, digits, {@code _} and {@code -}, 1 to 64 characters,
 *       starting with a letter or digit, unique ignoring case; a name is never used as a path.</li>
 *   <li>Writes are atomic: a voice is assembled in a hidden staging directory and moved into place; rename and
 *       delete are single directory moves; cache files are written to a temporary file and renamed.</li>
 *   <li>A corrupt entry (missing or unreadable metadata or clip, a clip whose hash changed is re-keyed, an unreadable
 *       cache file) is reported through {@link #problems()} and the log, and skipped; it never breaks the library.</li>
 *   <li>The computation of conditionals from a clip is injected ({@code Function<Path, Conditionals>}), so the
 *       library does not depend on the encoders.</li>
 * </ul>
 * Thread-safe within one process.
 */
public final class VoiceLibrary {

    private static final System.Logger LOG = System.getLogger(VoiceLibrary.class.getName());
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    private static final Pattern EXT = Pattern.compile("[a-z0-9]{1,5}");
    private static final Set<String> RESERVED = Set.of("con", "prn", "aux", "nul", "com1", "com2", "com3", "com4",
            "com5", "com6", "com7", "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8",
            "lpt9");
    private static final String META = "voice.properties";
    private static final String CONDS = "conds";
    private static final String ADHOC = ".adhoc";
    private static final long MAX_CLIP_BYTES = 64L * 1024 * 1024;

    /** One stored voice. */
    public record Voice(String name, Path clip, String clipSha256, long clipBytes, String originalFileName,
            Instant added) {
    }

    /** An entry that could not be used, and why. */
    public record Problem(String entry, String reason) {
    }

    private final Path root;
    private final String modelRevision;
    private final String revisionKey;
    private final Function<Path, Conditionals> compute;
    private final Map<String, Conditionals> memory = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final List<Problem> problems = new ArrayList<>();

    /**
     * @param root           library directory (created if missing)
     * @param modelRevision  identifies the model weights the conditionals belong to (e.g. the HF revision);
     *                       a different revision gets its own cache files
     * @param compute        computes conditionals from a reference clip file (decoding, encoders)
     */
    public VoiceLibrary(Path root, String modelRevision, Function<Path, Conditionals> compute) {
        this.root = root.toAbsolutePath().normalize();
        this.modelRevision = Objects.requireNonNull(modelRevision, "modelRevision");
        this.revisionKey = sha256(modelRevision.getBytes(StandardCharsets.UTF_8)).substring(0, 12);
        this.compute = Objects.requireNonNull(compute, "compute");
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot create voice library " + this.root + ": " + e.getMessage(), e);
        }
        cleanLeftovers();
    }

    public Path root() {
        return root;
    }

    public String modelRevision() {
        return modelRevision;
    }

    /** Throws {@link IllegalArgumentException} unless {@code name} is a valid voice name; returns it. */
    public static String validateName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid voice name '" + name + "': use 1-64 letters, digits, '_' or "
                    + "'-', starting with a letter or digit");
        }
        if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("'" + name + "' is a reserved name");
        }
        return name;
    }

    public static boolean isValidName(String name) {
        try {
            validateName(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- listing

    /** All usable voices sorted by name; unusable entries are skipped and reported in {@link #problems()}. */
    public synchronized List<Voice> list() {
        problems.clear();
        List<Voice> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String fn = p.getFileName().toString();
                if (fn.startsWith(".")) {
                    continue;
                }
                if (!Files.isDirectory(p) || !isValidName(fn)) {
                    report(fn, "not a voice entry");
                    continue;
                }
                try {
                    out.add(read(fn, p));
                } catch (VoiceLibraryException e) {
                    report(fn, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot list voice library " + root + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparing(v -> v.name().toLowerCase(Locale.ROOT)));
        return out;
    }

    /** Problems found by the last {@link #list()} or by lookups since. */
    public synchronized List<Problem> problems() {
        return List.copyOf(problems);
    }

    /** The voice called {@code name} (exact or differing only in case), if present and usable. */
    public synchronized Optional<Voice> get(String name) {
        validateName(name);
        Optional<Path> dir = find(name);
        if (dir.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(read(dir.get().getFileName().toString(), dir.get()));
        } catch (VoiceLibraryException e) {
            report(name, e.getMessage());
            return Optional.empty();
        }
    }

    public boolean contains(String name) {
        return get(name).isPresent();
    }

    // ---------------------------------------------------------------- changes

    /**
     * Adds a voice from a clip file: copies the clip, computes its conditionals right away (so a clip that is too
     * short, silent or undecodable is refused before anything is stored) and stores both.
     */
    public Voice add(String name, Path clip) {
        byte[] bytes;
        try {
            long size = Files.size(clip);
            if (size > MAX_CLIP_BYTES) {
                throw new VoiceLibraryException("clip " + clip.getFileName() + " is larger than "
                        + MAX_CLIP_BYTES / (1024 * 1024) + " MiB");
            }
            bytes = Files.readAllBytes(clip);
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot read clip " + clip + ": " + e.getMessage(), e);
        }
        return add(name, bytes, clip.getFileName().toString());
    }

    /** Adds a voice from the bytes of an audio file; {@code fileName} only supplies the extension and a label. */
    public Voice add(String name, byte[] clipBytes, String fileName) {
        validateName(name);
        if (clipBytes.length == 0) {
            throw new VoiceLibraryException("empty clip");
        }
        if (clipBytes.length > MAX_CLIP_BYTES) {
            throw new VoiceLibraryException("clip is larger than " + MAX_CLIP_BYTES / (1024 * 1024) + " MiB");
        }
        synchronized (this) {
            if (find(name).isPresent()) {
                throw new VoiceLibraryException("a voice named '" + name + "' already exists");
            }
        }
        String ext = extension(fileName);
        String hash = sha256(clipBytes);
        Path staging = root.resolve(".staging-" + UUID.randomUUID());
        try {
            Files.createDirectory(staging);
            Path clip = staging.resolve("clip." + ext);
            Files.write(clip, clipBytes);
            Conditionals c = compute.apply(clip);
            Objects.requireNonNull(c, "conditionals computation returned null");
            Files.createDirectories(staging.resolve(CONDS));
            c.save(staging.resolve(CONDS).resolve(cacheName(hash)), cacheMetadata(hash));
            Properties p = new Properties();
            p.setProperty("clip", clip.getFileName().toString());
            p.setProperty("sha256", hash);
            p.setProperty("bytes", Long.toString(clipBytes.length));
            p.setProperty("originalFileName", sanitizeLabel(fileName));
            p.setProperty("added", Instant.now().toString());
            try (OutputStream out = Files.newOutputStream(staging.resolve(META))) {
                p.store(out, "voice library entry");
            }
            synchronized (this) {
                if (find(name).isPresent()) {
                    throw new VoiceLibraryException("a voice named '" + name + "' already exists");
                }
                Path target = root.resolve(name);
                move(staging, target);
                memory.put(memoryKey(hash), c);
                return read(name, target);
            }
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot store voice '" + name + "': " + e.getMessage(), e);
        } finally {
            deleteTree(staging);
        }
    }

    /** Renames a voice (its cache stays valid: it is keyed by content). */
    public synchronized Voice rename(String from, String to) {
        validateName(from);
        validateName(to);
        Path src = find(from).orElseThrow(() -> new VoiceLibraryException("no voice named '" + from + "'"));
        Optional<Path> existing = find(to);
        if (existing.isPresent() && !existing.get().equals(src)) {
            throw new VoiceLibraryException("a voice named '" + to + "' already exists");
        }
        Path dst = root.resolve(to);
        try {
            if (!src.getFileName().toString().equals(to)) {
                if (existing.isPresent()) {
                    // only the case changes: go through a temporary name (case-insensitive file systems)
                    Path tmp = root.resolve(".rename-" + UUID.randomUUID());
                    move(src, tmp);
                    move(tmp, dst);
                } else {
                    move(src, dst);
                }
            }
            return read(to, dst);
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot rename voice '" + from + "' to '" + to + "': " + e.getMessage(), e);
        }
    }

    /** Deletes a voice; returns false if there was none. */
    public synchronized boolean delete(String name) {
        validateName(name);
        Optional<Path> dir = find(name);
        if (dir.isEmpty()) {
            return false;
        }
        Path trash = root.resolve(".trash-" + UUID.randomUUID());
        try {
            move(dir.get(), trash);
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot delete voice '" + name + "': " + e.getMessage(), e);
        }
        deleteTree(trash);
        return true;
    }

    // ---------------------------------------------------------------- conditionals

    /**
     * The conditionals of a stored voice: from memory, else from the cache file for (clip content, model revision),
     * else computed from the clip and cached. A corrupt cache file is reported, removed and recomputed.
     */
    public Conditionals conditionals(String name) {
        Voice v = get(name).orElseThrow(() -> new VoiceLibraryException(find(name).isPresent()
                ? "voice '" + name + "' is corrupt: " + lastProblem(name) : "no voice named '" + name + "'"));
        Path dir = v.clip().getParent();
        String hash;
        try {
            hash = sha256(Files.readAllBytes(v.clip()));
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot read the clip of voice '" + name + "': " + e.getMessage(), e);
        }
        if (!hash.equals(v.clipSha256())) {
            report(name, "clip content changed since it was added; conditionals recomputed for the new content");
        }
        return cached(hash, dir.resolve(CONDS).resolve(cacheName(hash)), v.clip());
    }

    /**
     * Conditionals for a clip that is not in the library ({@code --voice clip.wav}): cached under
     * {@code <root>/.adhoc/} by content hash and model revision.
     */
    public Conditionals conditionalsForClip(Path clip) {
        String hash;
        try {
            if (Files.size(clip) > MAX_CLIP_BYTES) {
                throw new VoiceLibraryException("clip " + clip.getFileName() + " is too large");
            }
            hash = sha256(Files.readAllBytes(clip));
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot read clip " + clip + ": " + e.getMessage(), e);
        }
        return cached(hash, root.resolve(ADHOC).resolve(cacheName(hash)), clip);
    }

    private Conditionals cached(String hash, Path cacheFile, Path clip) {
        String key = memoryKey(hash);
        Conditionals c = memory.get(key);
        if (c != null) {
            return c;
        }
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            c = memory.get(key);
            if (c != null) {
                return c;
            }
            if (Files.isRegularFile(cacheFile)) {
                try {
                    c = Conditionals.load(cacheFile);
                } catch (RuntimeException e) {
                    report(cacheFile.getParent().getParent().getFileName() + "/" + cacheFile.getFileName(),
                            "unreadable cached conditionals, recomputing: " + e.getMessage());
                    try {
                        Files.deleteIfExists(cacheFile);
                    } catch (IOException ignored) {
                        // overwritten below anyway
                    }
                }
            }
            if (c == null) {
                c = Objects.requireNonNull(compute.apply(clip), "conditionals computation returned null");
                try {
                    Files.createDirectories(cacheFile.getParent());
                    c.save(cacheFile, cacheMetadata(hash));
                } catch (IOException | RuntimeException e) {
                    // the result is still good; only the disk cache failed
                    report(cacheFile.toString(), "cannot write cached conditionals: " + e.getMessage());
                }
            }
            memory.put(key, c);
            return c;
        }
    }

    // ---------------------------------------------------------------- internals

    private String cacheName(String clipHash) {
        return clipHash + "-" + revisionKey + ".safetensors";
    }

    private String memoryKey(String clipHash) {
        return clipHash + "-" + revisionKey;
    }

    private Map<String, String> cacheMetadata(String clipHash) {
        return Map.of("clip_sha256", clipHash, "model_revision", modelRevision);
    }

    private Optional<Path> find(String name) {
        Path exact = root.resolve(name);
        if (Files.isDirectory(exact) && exact.getFileName().toString().equals(name)) {
            return Optional.of(exact);
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().equalsIgnoreCase(name) && Files.isDirectory(p))
                    .findFirst();
        } catch (IOException e) {
            throw new VoiceLibraryException("cannot list voice library " + root + ": " + e.getMessage(), e);
        }
    }

    private Voice read(String name, Path dir) {
        Path meta = dir.resolve(META);
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(meta)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new VoiceLibraryException("missing or unreadable " + META);
        }
        String clipName = p.getProperty("clip");
        String hash = p.getProperty("sha256");
        if (clipName == null || !clipName.startsWith("clip.") || !EXT.matcher(clipName.substring(5)).matches()) {
            throw new VoiceLibraryException(META + " names no valid clip");
        }
        if (hash == null || !hash.matches("[0-9a-f]{64}")) {
            throw new VoiceLibraryException(META + " has no valid sha256");
        }
        Path clip = dir.resolve(clipName);
        if (!Files.isRegularFile(clip)) {
            throw new VoiceLibraryException("its clip " + clipName + " is missing");
        }
        long bytes;
        Instant added;
        try {
            bytes = Long.parseLong(p.getProperty("bytes", "-1"));
            added = Instant.parse(p.getProperty("added", Instant.EPOCH.toString()));
        } catch (RuntimeException e) {
            throw new VoiceLibraryException(META + " is malformed");
        }
        return new Voice(name, clip, hash, bytes, p.getProperty("originalFileName", ""), added);
    }

    private String lastProblem(String name) {
        synchronized (this) {
            for (int i = problems.size() - 1; i >= 0; i--) {
                if (problems.get(i).entry().equalsIgnoreCase(name)) {
                    return problems.get(i).reason();
                }
            }
        }
        return "unusable entry";
    }

    private synchronized void report(String entry, String reason) {
        problems.add(new Problem(entry, reason));
        LOG.log(System.Logger.Level.WARNING, "voice library " + root + ": " + entry + ": " + reason);
    }

    private static String extension(String fileName) {
        if (fileName != null) {
            int dot = fileName.lastIndexOf('.');
            if (dot >= 0) {
                String e = fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
                if (EXT.matcher(e).matches()) {
                    return e;
                }
            }
        }
        return "audio";
    }

    private static String sanitizeLabel(String fileName) {
        if (fileName == null) {
            return "";
        }
        String base = fileName.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        StringBuilder sb = new StringBuilder();
        base.codePoints().filter(cp -> cp >= 0x20 && cp != 0x7f).limit(200).forEach(sb::appendCodePoint);
        return sb.toString();
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            if (Files.exists(to)) {
                throw new FileAlreadyExistsException(to.toString());
            }
            Files.move(from, to);
        }
    }

    private void cleanLeftovers() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(".staging-") || n.startsWith(".trash-");
        })) {
            for (Path p : ds) {
                deleteTree(p);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot clean voice library leftovers: " + e.getMessage());
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.deleteIfExists(q);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete " + p + ": " + e.getMessage());
        }
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
