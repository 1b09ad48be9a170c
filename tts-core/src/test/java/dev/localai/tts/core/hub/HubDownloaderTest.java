package dev.localai.tts.core.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubDownloaderTest {
    static final String REPO = "ResembleAI/chatterbox-turbo";
    static final List<String> FILES = List.of("tokenizer_config.json", "ve.safetensors", "conds.pt");

    @TempDir
    Path tmp;
    FakeHub hub;
    HubCache cache;
    byte[] big;

    @BeforeEach
    void setUp() throws IOException {
        hub = new FakeHub(REPO);
        big = new byte[700_000];
        new Random(1).nextBytes(big);
        byte[] small = new byte[5_000];
        new Random(2).nextBytes(small);
        hub.put("tokenizer_config.json", "{\"model_max_length\": 1024}".getBytes(StandardCharsets.UTF_8))
                .put("ve.safetensors", big).put("conds.pt", small);
        cache = new HubCache(tmp.resolve("hub"));
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    HubOptions options() {
        return new HubOptions(hub.endpoint(), "hf_secret", false, Duration.ofSeconds(2), Duration.ofSeconds(10), 4,
                null);
    }

    @Test
    void downloadsIntoTheHuggingFaceCacheLayout() throws IOException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Path snap = new HubDownloader(cache, options().withProgress(new PrintStream(console, true)))
                .download(REPO, "main", FILES);

        Path repoDir = tmp.resolve("hub/models--ResembleAI--chatterbox-turbo");
        assertThat(snap).isEqualTo(repoDir.resolve("snapshots/" + FakeHub.COMMIT));
        assertThat(Files.readString(repoDir.resolve("refs/main"))).isEqualTo(FakeHub.COMMIT);
        for (String f : FILES) {
            Path pointer = snap.resolve(f);
            assertThat(Files.isSymbolicLink(pointer)).as(f).isTrue();
            assertThat(Files.readSymbolicLink(pointer).toString()).isEqualTo("../../blobs/" + hub.etag(f));
            assertThat(Files.readAllBytes(pointer)).isEqualTo(hub.files.get(f));
        }
        // LFS blobs are named by sha256, small files by git sha1, as huggingface_hub does
        assertThat(repoDir.resolve("blobs/" + FakeHub.sha256(big))).exists();
        assertThat(repoDir.resolve("blobs/" + FakeHub.gitSha1(hub.files.get("tokenizer_config.json")))).exists();
        assertThat(leftovers(repoDir)).isEmpty();
        // the token goes to the hub, never to the CDN
        assertThat(hub.requests).filteredOn(r -> r.server().equals("hub"))
                .allMatch(r -> "Bearer hf_secret".equals(r.authorization()));
        assertThat(hub.requests).filteredOn(r -> r.server().equals("cdn")).isNotEmpty()
                .allMatch(r -> r.authorization() == null);
        assertThat(console.toString()).contains("ve.safetensors").contains("100%");

        // a second run only asks for metadata and downloads nothing
        int gets = hub.gets.get();
        assertThat(new HubDownloader(cache, options()).download(REPO, "main", FILES)).isEqualTo(snap);
        assertThat(hub.gets.get()).isEqualTo(gets);
    }

    @Test
    void droppedConnectionIsResumedWithRange() throws IOException {
        hub.dropOnceAfter.put("ve.safetensors", 300_000);
        Path snap = new HubDownloader(cache, options()).download(REPO, "main", FILES);
        assertThat(Files.readAllBytes(snap.resolve("ve.safetensors"))).isEqualTo(big);
        List<FakeHub.Request> cdnGets = hub.requests.stream()
                .filter(r -> r.server().equals("cdn") && r.path().endsWith(FakeHub.sha256(big))).toList();
        assertThat(cdnGets).hasSize(2);
        assertThat(cdnGets.get(0).range()).isNull();
        assertThat(cdnGets.get(1).range()).startsWith("bytes=").endsWith("-");
        long resumedFrom = Long.parseLong(cdnGets.get(1).range().replaceAll("\\D", ""));
        assertThat(resumedFrom).isGreaterThan(0).isLessThanOrEqualTo(300_000);
        assertThat(leftovers(cache.repoDir(REPO))).isEmpty();
    }

    @Test
    void incompleteFileOfAnEarlierRunIsResumed() throws IOException {
        Path part = cache.blobPath(REPO, FakeHub.sha256(big) + ".incomplete");
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(big, 123_456));
        Path snap = new HubDownloader(cache, options()).download(REPO, "main", FILES);
        assertThat(Files.readAllBytes(snap.resolve("ve.safetensors"))).isEqualTo(big);
        assertThat(hub.requests).filteredOn(r -> r.server().equals("cdn") && r.path().endsWith(FakeHub.sha256(big)))
                .singleElement().extracting(FakeHub.Request::range).isEqualTo("bytes=123456-");
        assertThat(part).doesNotExist();
    }

    @Test
    void corruptBodyFailsAndLeavesNothingHalfWritten() throws IOException {
        hub.corrupt.put("ve.safetensors", true);
        assertThatThrownBy(() -> new HubDownloader(cache, options()).download(REPO, "main", FILES))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("ve.safetensors is corrupt")
                .hasMessageContaining(FakeHub.sha256(big))
                .satisfies(e -> assertThat(((HubException) e).kind()).isEqualTo(HubException.Kind.CHECKSUM));
        Path repoDir = cache.repoDir(REPO);
        assertThat(repoDir.resolve("blobs/" + FakeHub.sha256(big))).doesNotExist();
        assertThat(repoDir.resolve("snapshots/" + FakeHub.COMMIT + "/ve.safetensors")).doesNotExist();
        assertThat(leftovers(repoDir)).isEmpty();
    }

    @Test
    void offlineUsesAnExistingPythonStyleCache() throws IOException {
        // lay the cache out by hand, as huggingface_hub would have left it
        Path repoDir = cache.repoDir(REPO);
        for (String f : FILES) {
            Path blob = repoDir.resolve("blobs/" + hub.etag(f));
            Files.createDirectories(blob.getParent());
            Files.write(blob, hub.files.get(f));
            Path pointer = repoDir.resolve("snapshots/" + FakeHub.COMMIT + "/" + f);
            Files.createDirectories(pointer.getParent());
            Files.createSymbolicLink(pointer, Path.of("../../blobs/" + hub.etag(f)));
        }
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), FakeHub.COMMIT);

        Path snap = new HubDownloader(cache, options().withOffline(true)).download(REPO, "main", FILES);
        assertThat(snap).isEqualTo(repoDir.resolve("snapshots/" + FakeHub.COMMIT));
        assertThat(new HubDownloader(cache, options().withOffline(true)).download(REPO, FakeHub.COMMIT, FILES))
                .isEqualTo(snap);
        assertThat(hub.requests).isEmpty();

        // an online run finds everything in place and downloads nothing
        new HubDownloader(cache, options()).download(REPO, "main", FILES);
        assertThat(hub.gets.get()).isZero();
    }

    @Test
    void offlineWithoutCachedFilesFailsClearly() throws IOException {
        assertThatThrownBy(() -> new HubDownloader(cache, options().withOffline(true)).download(REPO, "main", FILES))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("offline")
                .hasMessageContaining("'main'")
                .satisfies(e -> assertThat(((HubException) e).kind()).isEqualTo(HubException.Kind.OFFLINE));

        // revision known but a file missing: the message names it
        Path repoDir = cache.repoDir(REPO);
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), FakeHub.COMMIT);
        assertThatThrownBy(() -> new HubDownloader(cache, options().withOffline(true)).download(REPO, "main", FILES))
                .hasMessageContaining("[tokenizer_config.json, ve.safetensors, conds.pt]");
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void unreachableHubFailsFastOrFallsBackToTheCache() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        HubOptions dead = options().withEndpoint(URI.create("http://127.0.0.1:" + closedPort));
        assertThatThrownBy(() -> new HubDownloader(cache, dead).download(REPO, "main", FILES))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("cannot reach the model hub at http://127.0.0.1:" + closedPort)
                .satisfies(e -> assertThat(((HubException) e).kind()).isEqualTo(HubException.Kind.UNREACHABLE));

        Path snap = new HubDownloader(cache, options()).download(REPO, "main", FILES);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        assertThat(new HubDownloader(cache, dead.withProgress(new PrintStream(console, true)))
                .download(REPO, "main", FILES)).isEqualTo(snap);
        assertThat(console.toString()).contains("using the cached files");
    }

    @Test
    void hubErrorsNameTheProblem() {
        assertThatThrownBy(() -> new HubDownloader(cache, options()).download(REPO, "main", List.of("nope.bin")))
                .hasMessageContaining("file nope.bin not found in " + REPO);
        assertThatThrownBy(() -> new HubDownloader(cache, options()).download(REPO, "v9", FILES))
                .hasMessageContaining("revision 'v9' does not exist");
        assertThatThrownBy(() -> new HubDownloader(cache, options()).download("someone/else", "main", FILES))
                .hasMessageContaining("repository someone/else does not exist");
    }

    @Test
    void cacheRootFollowsTheHuggingFaceEnvironment() {
        Path home = Path.of("/home/u");
        assertThat(HubCache.defaultRoot(Map.of(), home)).isEqualTo(Path.of("/home/u/.cache/huggingface/hub"));
        assertThat(HubCache.defaultRoot(Map.of("HF_HOME", "/data/hf"), home)).isEqualTo(Path.of("/data/hf/hub"));
        assertThat(HubCache.defaultRoot(Map.of("HF_HOME", "/data/hf", "HF_HUB_CACHE", "/x/cache"), home))
                .isEqualTo(Path.of("/x/cache"));
        assertThat(HubCache.defaultRoot(Map.of("XDG_CACHE_HOME", "/xdg"), home))
                .isEqualTo(Path.of("/xdg/huggingface/hub"));
        assertThat(HubCache.defaultRoot(Map.of("HF_HOME", "~/hf"), home)).isEqualTo(Path.of("/home/u/hf/hub"));

        HubOptions o = HubOptions.fromEnvironment(Map.of("HF_ENDPOINT", "http://127.0.0.1:9/", "HF_TOKEN", "t",
                "HF_HUB_OFFLINE", "1"), home);
        assertThat(o.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9"));
        assertThat(o.token()).isEqualTo("t");
        assertThat(o.offline()).isTrue();
        assertThat(HubOptions.fromEnvironment(Map.of(), home).endpoint()).isEqualTo(HubOptions.DEFAULT_ENDPOINT);
        assertThat(HubOptions.fromEnvironment(Map.of(), home).offline()).isFalse();
    }

    @Test
    void tokenFileUnderHfHomeIsRead() throws IOException {
        Files.createDirectories(tmp.resolve("hfhome"));
        Files.writeString(tmp.resolve("hfhome/token"), "hf_from_file\n");
        assertThat(HubOptions.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hfhome").toString()), tmp).token())
                .isEqualTo("hf_from_file");
    }

    private static List<Path> leftovers(Path repoDir) throws IOException {
        if (!Files.exists(repoDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(repoDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".incomplete")
                    || p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }
}
