package dev.localai.tts.cuda;

import dev.localai.tts.core.runtime.Device;
import java.util.Locale;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.pytorch.cuda.CUDAAllocator;
import org.bytedeco.pytorch.cuda.DeviceStats;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch_cuda;

/** Choosing a GPU, reading its memory and picking the weight type it runs fastest. */
public final class CudaDevices {
    private CudaDevices() {}

    /**
     * Resolves a device spec: {@code auto} (the GPU with the most free memory, else the CPU), {@code cuda} (GPU 0),
     * {@code cuda:N} (GPU N, checked to exist) or {@code cpu}.
     *
     * @throws CudaException when a GPU is asked for but CUDA is unavailable or N is out of range
     */
    public static Device select(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        if (s.equals("auto")) {
            return CudaRuntime.available() ? Device.cuda(mostFreeMemory()) : Device.cpu();
        }
        Device d;
        try {
            d = Device.parse(s);
        } catch (IllegalArgumentException e) {
            throw new CudaException(e.getMessage(), e);
        }
        CudaRuntime.require();
        if (d.index() >= CudaRuntime.deviceCount()) {
            throw new CudaException("there is no GPU " + d + ": this machine has " + CudaRuntime.deviceCount()
                    + " (cuda:0 .. cuda:" + (CudaRuntime.deviceCount() - 1) + ")");
        }
        return d;
    }

    /** The ordinal of the GPU with the most free memory right now. */
    static int mostFreeMemory() {
        int best = 0;
        long bestFree = -1;
        for (int i = 0; i < CudaRuntime.deviceCount(); i++) {
            long free = memGetInfo(i)[0];
            if (free > bestFree) {
                bestFree = free;
                best = i;
            }
        }
        return best;
    }

    /** {free, total} bytes of GPU {@code device} from cudaMemGetInfo. */
    static long[] memGetInfo(int device) {
        CudaRuntime.require();
        synchronized (CudaDevices.class) {
            int[] current = {0};
            CudaRuntime.check(cudart.cudaGetDevice(current), "cudaGetDevice");
            try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
                CudaRuntime.check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
                CudaRuntime.check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
                return new long[] {free.get(), total.get()};
            } finally {
                cudart.cudaSetDevice(current[0]);
            }
        }
    }

    /** Memory of GPU {@code device}: the driver's view and LibTorch's caching allocator's. */
    public static VramReport vram(int device) {
        long[] info = memGetInfo(device);
        long allocated = -1;
        long reserved = -1;
        long peak = -1;
        try {
            CUDAAllocator a = torch_cuda.getAllocator();
            DeviceStats st = a.getDeviceStats((byte) device);
            // each figure is an array over the pools; element 0 is the aggregate
            allocated = st.allocated_bytes().current();
            reserved = st.reserved_bytes().current();
            peak = st.allocated_bytes().peak();
        } catch (Throwable t) {
            // the allocator's statistics are an extra; the driver figures above are what matters
        }
        return new VramReport(device, name(device), info[1], info[0], allocated, reserved, peak);
    }

    /** The GPU's name, e.g. "NVIDIA H200". */
    public static String name(int device) {
        CudaRuntime.require();
        try (cudaDeviceProp p = new cudaDeviceProp()) {
            CudaRuntime.check(cudart.cudaGetDeviceProperties(p, device), "cudaGetDeviceProperties");
            return p.name().getString();
        }
    }

    /** Compute capability as major * 10 + minor (e.g. 90 for Hopper). */
    public static int computeCapability(int device) {
        CudaRuntime.require();
        try (cudaDeviceProp p = new cudaDeviceProp()) {
            CudaRuntime.check(cudart.cudaGetDeviceProperties(p, device), "cudaGetDeviceProperties");
            return p.major() * 10 + p.minor();
        }
    }

    /**
     * The weight type for T3 on a GPU of the given compute capability: the engine's one rule,
     * {@link dev.localai.tts.core.tuning.WeightTypes#gpuDtype} (bf16 from Ampere on, fp16 on 7.x, fp32 below).
     */
    public static ScalarType preferredDtype(int computeCapability) {
        return dev.localai.tts.core.tuning.WeightTypes.gpuDtype(java.util.OptionalInt.of(computeCapability));
    }

    /** The dtype name {@link dev.localai.tts.core.engine.TtsOptions.Builder#dtype(String)} takes. */
    public static String dtypeName(ScalarType t) {
        if (t == ScalarType.BFloat16) {
            return "bf16";
        }
        if (t == ScalarType.Half) {
            return "fp16";
        }
        return "fp32";
    }
}
