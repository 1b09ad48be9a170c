package dev.localai.tts.cuda;

import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.TtsOptions;
import dev.localai.tts.core.runtime.Device;

/**
 * A {@link TtsEngine} on a GPU: the device chosen by {@link CudaDevices#select}, T3 weights in the GPU's preferred
 * half type (bf16 on Ampere and later, fp16 on Volta/Turing), and several concurrent requests whose T3 decode steps
 * run as one batched forward, so a GPU serves many streams at once.
 *
 * <pre>{@code
 * try (TtsEngine tts = CudaTts.builder("auto").model("ResembleAI/chatterbox-turbo").build()) {
 *     AudioClip clip = tts.synthesize(SpeechRequest.of("Hello from the GPU."));
 * }
 * }</pre>
 *
 * <p>The decode step is the engine's: per-session KV caches and step buffers allocated once (static shapes, no
 * allocation of activations per token), and on a GPU the batched step amortises kernel launches over all active
 * requests. CUDA graph capture would cut the launch cost of a step further, but the Bytedeco PyTorch preset
 * (2.10.0-1.5.13) does not expose {@code at::cuda::CUDAGraph}, so it is not used.
 *
 * <p>Measured on an H200 (docs/performance.md, "GPU"): one stream 2.5x faster than real time, time to first streamed
 * audio about 300 ms, 16 concurrent streams 4.6x real time together: a decode step's cost there is its LibTorch
 * calls on the host, and batched attention still makes a few calls per row ({@code -Dlocalai.tts.kvPool=true} tries
 * the pooled layout, not yet measured in its current form).
 */
public final class CudaTts {
    /** Concurrent requests (and batch rows of a decode step) on a GPU unless set otherwise. */
    public static final int DEFAULT_CONCURRENT = 16;

    private CudaTts() {}

    /**
     * An engine builder for {@code deviceSpec} ({@code auto}, {@code cuda}, {@code cuda:N}; {@code auto} falls back
     * to the CPU with fp32 and one slot when there is no GPU). Later builder calls override these settings.
     *
     * @throws CudaException when a GPU is named but cannot be used
     */
    public static TtsOptions.Builder builder(String deviceSpec) {
        Device d = CudaDevices.select(deviceSpec);
        TtsOptions.Builder b = TtsEngine.builder().device(d);
        if (d.isCuda()) {
            b.dtype(CudaDevices.dtypeName(CudaDevices.preferredDtype(CudaDevices.computeCapability(d.index()))))
                    .maxConcurrent(DEFAULT_CONCURRENT).maxQueue(4 * DEFAULT_CONCURRENT);
        } else {
            b.dtype("fp32");
        }
        return b;
    }
}
