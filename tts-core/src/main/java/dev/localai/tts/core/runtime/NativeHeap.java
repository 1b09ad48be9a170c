package dev.localai.tts.core.runtime;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * glibc's heap, as LibTorch's CPU tensors use it. LibTorch allocates tensors with {@code malloc}; glibc serves a block
 * above its mmap threshold (128 KiB to begin with) as a mapping of its own, unmapped again when freed, and on freeing
 * such a block raises the threshold to its size (up to 32 MiB) and the threshold past which the free top of the heap
 * goes back to the kernel to twice that. A process whose first large blocks are still to be freed therefore has every
 * tensor of a few MB zeroed and faulted in anew each time it is made.
 */
public final class NativeHeap {
    /** Below glibc's largest dynamic mmap threshold (32 MiB), above the models' working tensors (a few MB). */
    static final long SETTLE_BYTES = 24L << 20;

    private NativeHeap() {}

    /**
     * Raises glibc's thresholds as a long-running engine's are (its model load frees such blocks long before it
     * runs): one block of {@link #SETTLE_BYTES} allocated and freed, never touched. The weight-type probe calls it
     * before it times anything: in a fresh process its HiFT-shaped convolution chain faulted 2800-6400 pages a run
     * (35-59 ms against 17-19 after this, 4-242 faults), so the probe compared the convolution layouts by their page
     * faults, while the engine's HiFT runs without them (docs/performance.md, "glibc's malloc thresholds" and
     * "Seventeenth round"). The engine calls it before it loads the models: with each layer's temporaries freed as
     * it goes, a heap at its first thresholds gave its top back after such layers and faulted 38-57 huge pages in
     * again for every 5 s request, against 2-32 after this, 2-6 from the third request on ("Nineteenth round").
     * Elsewhere (another allocator) it is one allocation and nothing more.
     */
    public static void settle() {
        try (Tensor t = torch.empty(SETTLE_BYTES / 4)) {
            t.numel(); // allocated and freed, never touched
        }
    }
}
