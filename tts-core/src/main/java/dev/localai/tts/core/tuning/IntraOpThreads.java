package dev.localai.tts.core.tuning;

import dev.localai.tts.core.runtime.Torch;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * How many intra-op threads LibTorch runs on the CPU (the OpenMP threads of its convolutions, bf16 and int8 products,
 * attention and element-wise kernels; fp32 products run on OpenBLAS, pinned to one thread by {@link Torch#load}).
 *
 * <p>LibTorch's own default is the number of <em>physical</em> cores, as its CPU detection sees them. A virtual
 * machine whose two vCPUs are reported as two SMT threads of one core (measured on a 2-core Zen 4 EPYC) gets one
 * thread: the flow, HiFT and FBGEMM's int8 products then leave the second vCPU idle, whether or not it is really a
 * sibling. A flag cannot say which; a measurement can. On the 2-core Intel Xeon VM, one thread against two: HiFT
 * 2x slower, the bf16 flow 1.5x, FBGEMM's int8 products 2x (docs/performance.md). So, with no count configured, the
 * probe ({@link DtypeProbe}) times the same work at LibTorch's default and at the logical core count, and the
 * default stays unless the other count is faster by the probe's noise margin ({@link WeightTypes#MIN_GAIN}, 5%). The
 * logical count is Java's {@code availableProcessors()}, which honours a container's CPU limit: in a container given
 * 2 CPUs of a 16-core host, LibTorch's default of 16 threads is timed against 2.
 */
public final class IntraOpThreads {
    private IntraOpThreads() {}

    /**
     * {@code threads} as a configured intra-op thread count, checked against this process's logical cores
     * ({@code availableProcessors()}, a container's CPU limit included): {@link #requireValid(int, int)}.
     */
    public static int requireValid(int threads) {
        return requireValid(threads, Runtime.getRuntime().availableProcessors());
    }

    /**
     * {@code threads} if it is 0 (automatic) or from 1 to {@code logicalCores}; else an
     * {@link IllegalArgumentException} that names the range (pure logic). More threads than cores is never faster:
     * each parallel operation waits at its barrier for threads that have no core to run on. On a 2-core AMD EPYC
     * (Zen 5) the first streamed block's bf16 flow took 530 ms at 2 threads, 630-760 at 3 or 4, and {@code tts speak
     * --threads 999} 99 s for 1.4 s of audio (docs/performance.md, "Twenty-second round").
     */
    public static int requireValid(int threads, int logicalCores) {
        int cores = Math.max(1, logicalCores);
        if (threads < 0 || threads > cores) {
            throw new IllegalArgumentException("threads must be 0 (automatic) or from 1 to " + cores
                    + ", the CPU cores this process may use: " + threads);
        }
        return threads;
    }

    /**
     * The start-up warning for an intra-op thread count that the environment ({@code OMP_NUM_THREADS},
     * {@code MKL_NUM_THREADS}) sets above the logical core count (pure logic), or null. The environment's count is the
     * user's choice and is kept, but it is said what it costs ({@link #requireValid(int, int)}).
     */
    static String environmentWarning(boolean setByEnvironment, int libTorchThreads, int logicalCores) {
        if (!setByEnvironment || libTorchThreads <= Math.max(1, logicalCores)) {
            return null;
        }
        return "OMP_NUM_THREADS/MKL_NUM_THREADS give LibTorch " + libTorchThreads + " threads on "
                + Math.max(1, logicalCores) + " CPU cores: every parallel operation waits for threads that have no "
                + "core to run on (several times slower); unset it to let the engine choose, or set at most "
                + Math.max(1, logicalCores);
    }

    /**
     * {@link #environmentWarning(boolean, int, int)} for this process: LibTorch's default count as the environment
     * set it, against {@code availableProcessors()}.
     */
    public static String environmentWarning() {
        return environmentWarning(Torch.threadsSetByEnvironment(), Torch.defaultThreads(),
                Runtime.getRuntime().availableProcessors());
    }

    /**
     * The thread count an engine runs with: {@code configured} when positive; 0 (LibTorch's own default) on a GPU,
     * when the environment sets it ({@code OMP_NUM_THREADS}, {@code MKL_NUM_THREADS}: the user's choice, as
     * {@code OPENBLAS_NUM_THREADS} is for OpenBLAS) or when the default already is the logical core count (the probe
     * is not asked then); else the probe's choice, 0 when that is LibTorch's default (so the engine's own splits keep
     * their logical-core count).
     */
    public static int choose(int configured, boolean cuda, boolean setByEnvironment, int libTorchDefault,
            int logicalCores, Supplier<WeightTypes.Probe> probe) {
        if (configured > 0) {
            return configured;
        }
        if (cuda || candidates(libTorchDefault, logicalCores, setByEnvironment).size() < 2) {
            return 0;
        }
        int n = fromTimings(probe.get().threadMs(), libTorchDefault);
        return n == libTorchDefault ? 0 : n;
    }

    /**
     * The counts worth timing: LibTorch's default and the logical core count, when they differ (and the environment
     * does not set the count); otherwise only the default, which is then not timed.
     */
    static List<Integer> candidates(int libTorchDefault, int logicalCores, boolean setByEnvironment) {
        TreeSet<Integer> c = new TreeSet<>();
        c.add(Math.max(1, libTorchDefault));
        if (!setByEnvironment) {
            c.add(Math.max(1, logicalCores));
        }
        return List.copyOf(c);
    }

    /**
     * The count to run with, from the probe's times by count (pure logic): LibTorch's default unless another count
     * took at most 1/{@link WeightTypes#MIN_GAIN} of its time; 0 (keep the default) when fewer than two counts were
     * measured or the default's time is missing or not finite.
     */
    static int fromTimings(Map<Integer, Double> ms, int libTorchDefault) {
        if (ms.size() < 2) {
            return 0;
        }
        Double base = ms.get(libTorchDefault);
        if (base == null || !Double.isFinite(base) || base <= 0) {
            return 0;
        }
        int best = libTorchDefault;
        double bestMs = base;
        for (var e : ms.entrySet()) {
            double t = e.getValue();
            if (e.getKey() > 0 && WeightTypes.clearlyFaster(t, bestMs)) {
                best = e.getKey();
                bestMs = t;
            }
        }
        return best;
    }
}
