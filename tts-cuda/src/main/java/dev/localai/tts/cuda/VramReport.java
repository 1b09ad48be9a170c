package dev.localai.tts.cuda;

/**
 * GPU memory of one device.
 *
 * @param device          CUDA ordinal
 * @param name            the GPU's name
 * @param totalBytes      device memory (cudaMemGetInfo)
 * @param freeBytes       free device memory, all processes considered (cudaMemGetInfo)
 * @param torchAllocated  bytes in live tensors of this process (LibTorch caching allocator, current)
 * @param torchReserved   bytes the caching allocator holds from the driver (current; >= allocated)
 * @param torchPeak       peak of {@code torchAllocated} since start or the last reset
 */
public record VramReport(int device, String name, long totalBytes, long freeBytes, long torchAllocated,
                         long torchReserved, long torchPeak) {

    /** Device memory in use by every process (total - free). */
    public long usedBytes() {
        return totalBytes - freeBytes;
    }

    @Override
    public String toString() {
        return String.format("cuda:%d %s: %.2f / %.2f GiB in use; LibTorch allocated %.2f GiB, reserved %.2f GiB, "
                + "peak %.2f GiB", device, name, gib(usedBytes()), gib(totalBytes), gib(torchAllocated),
                gib(torchReserved), gib(torchPeak));
    }

    private static double gib(long b) {
        return b / (double) (1L << 30);
    }
}
