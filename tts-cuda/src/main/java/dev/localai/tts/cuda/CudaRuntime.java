package dev.localai.tts.cuda;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.pytorch.global.torch;

/**
 * What CUDA this process can use, probed once and never throwing: whether LibTorch was built with CUDA and sees a
 * GPU (only the {@code -Pcuda} build carries the GPU natives), and whether the CUDA runtime of the Bytedeco
 * {@code cuda} preset loads (its JNI jar is small; {@code libcudart} comes from the driver install or the
 * {@code cuda-redist} jar). On a machine without either, {@link #available()} is false and nothing else here may be
 * called.
 */
public final class CudaRuntime {
    private static volatile Probe probe;

    /** The probe's findings. */
    record Probe(boolean torchCuda, int torchDevices, boolean cudart, String reason) {}

    private CudaRuntime() {}

    /** True when LibTorch can run kernels on at least one GPU and the CUDA runtime API is reachable. */
    public static boolean available() {
        Probe p = probe();
        return p.torchCuda && p.torchDevices > 0 && p.cudart;
    }

    /** Why {@link #available()} is false (or "available"), for messages and test skips. */
    public static String reason() {
        return probe().reason;
    }

    /** GPUs LibTorch sees (0 without a CUDA build or a GPU). */
    public static int deviceCount() {
        return probe().torchDevices;
    }

    /** Throws a {@link CudaException} carrying {@link #reason()} unless CUDA is available. */
    public static void require() {
        if (!available()) {
            throw new CudaException("CUDA is not available: " + reason());
        }
    }

    /** The CUDA runtime and driver versions as "runtime 13.1, driver 13.2" (CUDA must be available). */
    public static String versions() {
        require();
        int[] rt = {0};
        int[] drv = {0};
        check(cudart.cudaRuntimeGetVersion(rt), "cudaRuntimeGetVersion");
        check(cudart.cudaDriverGetVersion(drv), "cudaDriverGetVersion");
        return "runtime " + version(rt[0]) + ", driver " + version(drv[0]);
    }

    private static String version(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    static void check(int status, String call) {
        if (status != cudart.cudaSuccess) {
            String msg;
            try {
                msg = cudart.cudaGetErrorString(status).getString();
            } catch (Throwable t) {
                msg = "error " + status;
            }
            throw new CudaException(call + " failed: " + msg + " (" + status + ")");
        }
    }

    private static Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (CudaRuntime.class) {
                p = probe;
                if (p == null) {
                    p = run();
                    probe = p;
                }
            }
        }
        return p;
    }

    private static Probe run() {
        boolean torchCuda;
        int devices = 0;
        try {
            Torch.load();
            torchCuda = torch.cuda_is_available();
            if (torchCuda) {
                devices = torch.cuda_device_count();
            }
        } catch (Throwable t) {
            return new Probe(false, 0, false, "LibTorch did not load: " + t);
        }
        if (!torchCuda) {
            return new Probe(false, 0, false, "LibTorch sees no CUDA GPU (a CPU build of the natives, or no GPU and "
                    + "driver; build with -Pcuda on a GPU machine)");
        }
        try {
            int[] n = {0};
            int status = cudart.cudaGetDeviceCount(n);
            if (status != cudart.cudaSuccess || n[0] == 0) {
                return new Probe(true, devices, false, "the CUDA runtime reports no device (status " + status + ")");
            }
        } catch (Throwable t) {
            return new Probe(true, devices, false, "the CUDA runtime library did not load: " + t);
        }
        return new Probe(true, devices, true, "available");
    }
}
