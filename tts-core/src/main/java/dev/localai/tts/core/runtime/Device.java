package dev.localai.tts.core.runtime;

import java.util.Locale;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;

/**
 * Where tensors live and kernels run: the CPU (the default everywhere) or one CUDA GPU.
 *
 * @param kind  CPU or CUDA
 * @param index the GPU ordinal for CUDA, 0 for the CPU
 */
public record Device(Kind kind, int index) {
    /** Device families. */
    public enum Kind { CPU, CUDA }

    public Device {
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0: " + index);
        }
        if (kind == Kind.CPU && index != 0) {
            throw new IllegalArgumentException("the CPU has no index");
        }
    }

    public static Device cpu() {
        return new Device(Kind.CPU, 0);
    }

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /**
     * Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto} (the first GPU when LibTorch sees one,
     * else the CPU).
     */
    public static Device parse(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return cpu();
        }
        if (s.equals("auto")) {
            Torch.load();
            return torch.cuda_is_available() ? cuda(0) : cpu();
        }
        if (s.equals("cuda") || s.equals("gpu")) {
            return cuda(0);
        }
        if (s.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(s.substring(5)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad device '" + spec + "': expected cpu, cuda, cuda:N or auto");
            }
        }
        throw new IllegalArgumentException("bad device '" + spec + "': expected cpu, cuda, cuda:N or auto");
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    /** A new LibTorch device object; the caller closes it (or lets a PointerScope do so). */
    public org.bytedeco.pytorch.Device torchDevice() {
        return kind == Kind.CPU ? new org.bytedeco.pytorch.Device(DeviceType.CPU)
                : new org.bytedeco.pytorch.Device(DeviceType.CUDA, (byte) index);
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
