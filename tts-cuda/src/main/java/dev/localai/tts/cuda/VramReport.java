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
        return String.format("cuda:%d %s: %s / %s in use; LibTorch allocated %s, reserved %s, peak %s", device, name,
                gib(usedBytes()), gib(totalBytes), gib(torchAllocated), gib(torchReserved), gib(torchPeak));
    }

    /** GiB with two decimals, or "n/a" for a figure that could not be read (-1: the allocator had not started). */
    private static String gib(long b) {
        return b < 0 ? "n/a" : String.format("%.2f GiB", b / (double) (1L << 30));
    }
}
