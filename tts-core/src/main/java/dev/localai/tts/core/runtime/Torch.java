package dev.localai.tts.core.runtime;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Process-wide LibTorch set-up: loading the natives, NNPACK off, the intra-op thread count and the BLAS thread count.
 *
 * <p><b>Threads.</b> The Bytedeco LibTorch build hands fp32 matrix products to OpenBLAS, which keeps its own pool of
 * pthreads (one per core by default), while every other kernel (oneDNN convolutions and bf16 products, element-wise
 * ops) runs on LibTorch's OpenMP threads. Both pools spin-wait between jobs, so with two or more intra-op threads they
 * take the cores from each other: on a 2-core machine fp32 T3 decoding was 3x slower and the fp32 S3Gen flow 3.6x
 * slower on 2 threads than on 1 (docs/performance.md). {@link #load} therefore sets OpenBLAS to one thread (GEMMs run
 * on the calling thread; LibTorch's threads and the engine's batched-decode row split supply the parallelism) unless
 * the environment sets {@code OPENBLAS_NUM_THREADS} itself, in which case that setting is kept.
 */
public final class Torch {
    private static final Logger LOG = Logger.getLogger(Torch.class.getName());
    private static volatile boolean loaded;
    private static volatile int blasThreads = -1;
    private static volatile int requestedThreads;
    /** LibTorch's intra-op thread count as it chose it, before anyone set it (0: not loaded yet). */
    private static volatile int defaultThreads;

    private Torch() {}

    /**
     * Loads the LibTorch natives (the first call unpacks them to the JavaCPP cache; later calls are free) and pins
     * OpenBLAS to one thread unless {@code OPENBLAS_NUM_THREADS} is set.
     */
    public static void load() {
        if (!loaded) {
            synchronized (Torch.class) {
                if (!loaded) {
                    Loader.load(torch.class);
                    defaultThreads = torch.get_num_threads();
                    disableNnpack();
                    pinBlasThreads();
                    String hint = mallocArenaHint(System.getenv(), System.getProperty("os.name"));
                    if (hint != null) {
                        LOG.info(hint);
                    }
                    String pages = HugePages.hint();
                    if (pages != null) {
                        LOG.info(pages);
                    }
                    loaded = true;
                }
            }
        }
    }

    /**
     * NNPACK is off for the whole process. LibTorch would only pick it for 2-d convolutions of batches of 16 or
     * more, which no model part runs, but on a CPU NNPACK does not support (AMD Zen 4 among them) it prints
     * "Could not initialize NNPACK! Reason: Unsupported hardware." at every convolution that asks. Off, nothing is
     * asked and nothing is printed; the convolutions take the same kernels as before.
     */
    private static void disableNnpack() {
        torch.globalContext().setUserEnabledNNPACK(false);
    }

    /**
     * Runs {@code op} with LibTorch's own log (c10's {@code [W...]} lines on stderr) raised to errors only, then puts
     * the warning level back. For one-time calls whose warnings say nothing to a user: LibTorch's FBGEMM int8
     * functions print a deprecation warning once per process (they are deprecated in favour of the
     * {@code quantized::} operators, which the Java bindings do not reach); calling them once in here uses up that
     * "once" quietly. Serialised, since the level is process-wide.
     */
    public static synchronized <T> T withNativeWarningsQuiet(java.util.function.Supplier<T> op) {
        load();
        setNativeLogLevel(2);
        try {
            return op.get();
        } finally {
            setNativeLogLevel(1);
        }
    }

    /** c10's {@code caffe2_log_level}: 0 info, 1 warnings (LibTorch's default), 2 errors. */
    private static void setNativeLogLevel(int level) {
        try (org.bytedeco.javacpp.PointerPointer<org.bytedeco.javacpp.BytePointer> argv =
                     new org.bytedeco.javacpp.PointerPointer<>("localai-tts", "--caffe2_log_level=" + level)) {
            int[] argc = {2};
            torch.ParseCommandLineFlags(argc, argv);
            torch.UpdateLoggingLevelsFromFlags();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not set LibTorch's log level", e);
        }
    }

    /**
     * glibc's {@code malloc} arena limit of this process as its environment sets it ({@code MALLOC_ARENA_MAX}, or
     * {@code glibc.malloc.arena_max} in {@code GLIBC_TUNABLES}), or {@code "unset"}.
     */
    public static String mallocArenaMax() {
        return mallocArenaMax(System.getenv());
    }

    static String mallocArenaMax(java.util.Map<String, String> env) {
        String v = env.get("MALLOC_ARENA_MAX");
        if (v != null && !v.isBlank()) {
            return v.trim();
        }
        String tunable = glibcTunable(env, "glibc.malloc.arena_max");
        return tunable != null ? tunable : "unset";
    }

    /**
     * The value {@code GLIBC_TUNABLES} in {@code env} gives glibc's tunable {@code name} (the last setting, as glibc
     * takes it), or null (pure logic).
     */
    static String glibcTunable(java.util.Map<String, String> env, String name) {
        String tunables = env.get("GLIBC_TUNABLES");
        String value = null;
        if (tunables != null) {
            for (String t : tunables.split(":")) {
                int eq = t.indexOf('=');
                if (eq > 0 && t.substring(0, eq).trim().equals(name)) {
                    value = t.substring(eq + 1).trim();
                }
            }
        }
        return value;
    }

    /**
     * The start-up hint for a Linux process that runs without a glibc arena limit (pure logic), or null. glibc gives
     * each thread that allocates its own arena, and a thread other than the main one keeps its memory in 64 MiB heaps
     * that are unmapped as soon as they empty: the engine runs the models on its own threads, so LibTorch's large
     * tensors fault their pages in again at every operation (measured: HiFT 3.5x slower than on the main thread, the
     * engine's RTF 1.31 against 0.85 with one arena, on a 2-core AMD EPYC; docs/performance.md). The limit must be in
     * the environment when the process starts ({@code mallopt} later does not move threads that already have an
     * arena), so an embedding application is told rather than fixed; {@code ./tts}, the bench scripts and the server
     * image set it.
     */
    static String mallocArenaHint(java.util.Map<String, String> env, String os) {
        if (os == null || !os.startsWith("Linux") || !"unset".equals(mallocArenaMax(env))) {
            return null;
        }
        return "MALLOC_ARENA_MAX is not set: glibc gives each engine thread its own malloc arena, which unmaps and "
                + "refaults the models' large tensors at every operation (vocoding measured up to 3.5x slower); "
                + "start the JVM with MALLOC_ARENA_MAX=1 in its environment (./tts and the server image do)";
    }

    private static void pinBlasThreads() {
        blasThreads = pinBlasThreads(System.getenv("OPENBLAS_NUM_THREADS"));
    }

    /**
     * Sets OpenBLAS to one thread unless {@code env} (the value of {@code OPENBLAS_NUM_THREADS}) is set; returns the
     * resulting thread count, or -1 if unknown.
     */
    static int pinBlasThreads(String env) {
        if (env != null && !env.isBlank()) {
            try {
                return Integer.parseInt(env.trim());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        try {
            org.bytedeco.openblas.global.openblas_nolapack.blas_set_num_threads(1);
            return org.bytedeco.openblas.global.openblas_nolapack.blas_get_num_threads();
        } catch (Throwable e) { // natives of another BLAS build, or none: LibTorch still works
            LOG.log(Level.FINE, "could not set the OpenBLAS thread count", e);
            return -1;
        }
    }

    /**
     * Loads LibTorch and sets its intra-op thread count; {@code threads <= 0} keeps LibTorch's default (the number
     * of cores).
     */
    public static void init(int threads) {
        load();
        if (threads > 0) {
            requestedThreads = threads;
        }
        if (threads > 0 && torch.get_num_threads() != threads) {
            torch.set_num_threads(threads);
        }
    }

    /**
     * Threads for the engine's own row splits of single-session products: the count {@link #init} was given, else
     * one per logical core. Not LibTorch's default, which counts physical cores: on a 2-vCPU VM whose vCPUs are
     * reported as SMT siblings it is 1 (measured on a 2-core Zen 4 EPYC).
     */
    public static int splitThreads() {
        int n = requestedThreads;
        return n > 0 ? n : Runtime.getRuntime().availableProcessors();
    }

    /**
     * LibTorch's own intra-op thread count, as it was before any {@link #init}: its count of physical cores, or what
     * {@code OMP_NUM_THREADS} / {@code MKL_NUM_THREADS} say.
     */
    public static int defaultThreads() {
        load();
        return defaultThreads;
    }

    /** Whether the environment sets LibTorch's thread count ({@code OMP_NUM_THREADS} or {@code MKL_NUM_THREADS}). */
    public static boolean threadsSetByEnvironment() {
        return setIn(System.getenv("OMP_NUM_THREADS")) || setIn(System.getenv("MKL_NUM_THREADS"));
    }

    private static boolean setIn(String v) {
        return v != null && !v.isBlank();
    }

    public static int threads() {
        load();
        return torch.get_num_threads();
    }

    /**
     * OpenBLAS's thread count: 1 as set by {@link #load}, or {@code OPENBLAS_NUM_THREADS} when the environment chose;
     * -1 if unknown.
     */
    public static int blasThreads() {
        load();
        return blasThreads;
    }
}
