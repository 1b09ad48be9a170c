package dev.localai.tts.cuda.bench;

import dev.localai.tts.core.bench.T3DecodeBench;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Cond;
import dev.localai.tts.core.model.t3.T3Config;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.cuda.CudaDevices;
import dev.localai.tts.cuda.CudaRuntime;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The T3 decode benchmark on a GPU (a program, not a test): the Turbo-size T3 with random weights in the GPU's
 * preferred half type, sessions at 1, 4 and 16 with and without batched decoding, and VRAM before loading, after
 * loading and at the end. Run with {@code tts-cuda/bench/gpu-check.sh}.
 *
 * <p>Arguments: {@code [device spec (auto)] [decode steps (64)]}.
 */
public final class CudaDecodeBench {
    private CudaDecodeBench() {}

    public static void main(String[] args) throws Exception {
        if (!CudaRuntime.available()) {
            System.out.println("no GPU: " + CudaRuntime.reason());
            return;
        }
        Device d = CudaDevices.select(args.length > 0 ? args[0] : "auto");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int cc = CudaDevices.computeCapability(d.index());
        var dtype = CudaDevices.preferredDtype(cc);
        System.out.printf("CudaDecodeBench on %s (%s, compute %d.%d, %s), T3 turbo in %s, %d steps%n", d,
                CudaDevices.name(d.index()), cc / 10, cc % 10, CudaRuntime.versions(), CudaDevices.dtypeName(dtype),
                steps);
        System.out.println("VRAM before loading: " + CudaDevices.vram(d.index()));
        torch.manual_seed(1);
        try (T3 t3 = T3DecodeBench.create(T3Config.turbo(), d, dtype)) {
            System.out.println("VRAM after loading T3: " + CudaDevices.vram(d.index()));
            Tensor spk = torch.randn(1, 256);
            Tensor prompt = torch.randint(0, 6561, new long[] {1, 40});
            T3Cond cond = new T3Cond(spk, prompt);
            // warm-up (not figures): the first use of each kernel loads it (CUDA's lazy module loading), and the
            // batched step uses kernels a single session does not
            System.out.println("warm-up (not figures):");
            T3DecodeBench.run(t3, cond, 1, 8, false);
            T3DecodeBench.run(t3, cond, 4, 8, true);
            T3DecodeBench.run(t3, cond, 16, 8, true);
            System.out.println();
            System.out.println("| sessions | batched | decode tokens/s (all sessions) | ms per step per session "
                    + "| mean batch |");
            System.out.println("|---|---|---|---|---|");
            for (int n : new int[] {1, 4, 16}) {
                T3DecodeBench.run(t3, cond, n, steps, n > 1);
                if (n > 1) {
                    T3DecodeBench.run(t3, cond, n, steps, false);
                }
            }
            System.out.println();
            System.out.println("VRAM at the end: " + CudaDevices.vram(d.index()));
        }
    }
}
