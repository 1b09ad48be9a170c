package dev.localai.manager.vram;

import dev.localai.manager.docker.DockerException;
import dev.localai.manager.docker.ProcessRunner;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader,nounits}, summed over GPUs,
 * cached briefly. Absent binary or any failure = unknown.
 */
public final class NvidiaSmiProbe implements GpuProbe {
    private final String binary;
    private final ProcessRunner runner = new ProcessRunner(Map.of());
    private volatile Optional<Sample> cached = Optional.empty();
    private volatile long cachedAt;
    private volatile boolean missing;

    public NvidiaSmiProbe(String binary) {
        this.binary = binary;
    }

    @Override
    public Optional<Sample> sample() {
        if (missing) return Optional.empty();
        long now = System.nanoTime();
        if (cachedAt != 0 && now - cachedAt < 1_000_000_000L) return cached;
        try {
            ProcessRunner.Result r = runner.run(List.of(binary, "--query-gpu=memory.used,memory.total",
                    "--format=csv,noheader,nounits"), Duration.ofSeconds(5));
            cached = r.exit() == 0 ? parse(r.stdout()) : Optional.empty();
        } catch (IOException e) {
            missing = true;
            cached = Optional.empty();
        } catch (DockerException e) {
            cached = Optional.empty();
        }
        cachedAt = System.nanoTime();
        return cached;
    }

    static Optional<Sample> parse(String out) {
        long used = 0, total = 0;
        int rows = 0;
        for (String line : out.split("\n")) {
            String[] f = line.split(",");
            if (f.length < 2) continue;
            try {
                used += Long.parseLong(f[0].strip());
                total += Long.parseLong(f[1].strip());
                rows++;
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return rows == 0 ? Optional.empty() : Optional.of(new Sample(used, total));
    }
}
