package dev.localai.manager.vram;

import java.util.Optional;

/** Measures GPU memory; empty when unknown (no nvidia-smi, no GPU). */
@FunctionalInterface
public interface GpuProbe {
    record Sample(long usedMb, long totalMb) {}

    Optional<Sample> sample();

    static GpuProbe none() {
        return Optional::empty;
    }
}
