package dev.localai.tts.cli;

import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.hub.HubCache;
import dev.localai.tts.core.hub.HubDownloader;
import dev.localai.tts.core.hub.HubOptions;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "download", mixinStandardHelpOptions = true,
        description = "Fetch the model files from the Hugging Face hub into the shared Hugging Face cache "
                + "(HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub), reusing what is already there. "
                + "Honours HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE.")
final class DownloadCommand implements Callable<Integer> {
    @Option(names = "--repo", defaultValue = ChatterboxTurboFiles.REPO, description = "Repository (default ${DEFAULT-VALUE}).")
    String repo;

    @Option(names = "--revision", defaultValue = ChatterboxTurboFiles.DEFAULT_REVISION,
            description = "Branch, tag or commit (default ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--offline", description = "Use only the local cache (like HF_HUB_OFFLINE=1).")
    boolean offline;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Hub cache directory (default: as huggingface_hub).")
    Path cacheDir;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub base URL (default: HF_ENDPOINT or https://huggingface.co).")
    URI endpoint;

    @Option(names = "--connect-timeout", defaultValue = "5", paramLabel = "SECONDS",
            description = "Give up connecting after this long (default ${DEFAULT-VALUE}).")
    int connectTimeout;

    @ParentCommand
    TtsCli root;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        HubCache cache = cacheDir != null ? new HubCache(cacheDir) : HubCache.fromEnvironment(root.env, root.userHome);
        HubOptions opts = HubOptions.fromEnvironment(root.env, root.userHome);
        if (endpoint != null) {
            opts = opts.withEndpoint(endpoint);
        }
        if (offline) {
            opts = opts.withOffline(true);
        }
        opts = opts.withTimeouts(java.time.Duration.ofSeconds(connectTimeout), opts.readTimeout())
                .withProgress(new PrintStream(new WriterOutputStream(spec.commandLine().getErr()), true));
        Path snapshot = new HubDownloader(cache, opts).download(repo, revision, ChatterboxTurboFiles.REQUIRED);
        spec.commandLine().getOut().println(snapshot.toAbsolutePath());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
