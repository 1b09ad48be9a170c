package dev.localai.tts.core.nn;

import java.io.File;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Loads this project's native CPU kernels ({@code src/main/c}: {@link Int8Kernel}, {@link CpuAttention}), built into
 * the jar as {@code libtts_cpu.so} by Maven on Linux x86-64 with gcc. Loaded once, after LibTorch, whose
 * {@code libgomp.so.1} then serves the kernels' OpenMP too, so they run on LibTorch's intra-op threads. Where the
 * library is missing or does not load, {@link #available()} is false and callers keep LibTorch's kernels; the system
 * property {@code localai.tts.nativeKernels=false} keeps it from loading at all (an escape hatch: LibTorch's kernels
 * then run everywhere).
 */
final class NativeKernels {
    private static final Logger LOG = Logger.getLogger(NativeKernels.class.getName());
    private static final String RESOURCE = "native/linux-x86_64/libtts_cpu.so";
    /** The system property that, set to {@code false}, keeps the library from loading. */
    static final String PROPERTY = "localai.tts.nativeKernels";
    private static final String UNAVAILABLE = load();

    private NativeKernels() {}

    /** Whether the library is loaded. */
    static boolean available() {
        return UNAVAILABLE == null;
    }

    /**
     * Which clones the element-wise kernels run (2 AVX-512, 1 AVX2, 0 plain x86-64; {@code tts_math.c}): with
     * {@code wanted >= 0}, that level from now on, at most the CPU's best; returns the level in force. The clones give
     * the same bits by construction (plain IEEE operations, no contraction); tests run each on the same input to check.
     */
    static native int cloneLevel(int wanted);

    /** Why the library is not loaded (null when it is). */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * A kernel's path code under LibTorch's own dispatch cap ({@code ATEN_CPU_CAPABILITY}, pure logic): {@code avx2}
     * caps it at 1 (the AVX2 path), {@code default} at 0 (plain C), anything else leaves {@code cpu}. Both kernels
     * number their paths so (0 plain C, 1 AVX2, higher for more), and follow the cap as LibTorch's kernels do, so a
     * run with it (the test suite's second dispatch path, a comparison with an AVX2-only CPU) exercises their AVX2
     * path.
     */
    static int capped(int cpu, String atenCapability) {
        return capped(cpu, atenCapability, 1, 0);
    }

    /**
     * {@link #capped(int, String)} for a kernel whose AVX2 path is {@code avx2} and whose best path without AVX2 is
     * {@code belowAvx2} (the int8 kernel's SSSE3 path: LibTorch's {@code default} kernels are what a CPU without AVX2
     * runs, and such CPUs have SSSE3).
     */
    static int capped(int cpu, String atenCapability, int avx2, int belowAvx2) {
        if (atenCapability == null) {
            return cpu;
        }
        int cap = switch (atenCapability.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "avx2" -> avx2;
            case "default" -> belowAvx2;
            default -> cpu;
        };
        return Math.min(cap, cpu);
    }

    /**
     * Whether LibTorch's dispatch cap ({@code avx2}, {@code default}) keeps a kernel beyond AVX2 off (pure logic: what
     * {@link #capped} leaves of an unbounded path code).
     */
    static boolean capsBelowAvx512(String atenCapability) {
        return capped(Integer.MAX_VALUE, atenCapability) < Integer.MAX_VALUE;
    }

    /**
     * Why the library is not to be loaded on this platform with this {@link #PROPERTY} value (pure logic), or null
     * when it is.
     */
    static String reasonNotToLoad(String os, String arch, String property) {
        if ("false".equalsIgnoreCase(property == null ? null : property.trim())) {
            return "turned off (" + PROPERTY + "=false)";
        }
        if (!"Linux".equals(os) || !("amd64".equals(arch) || "x86_64".equals(arch))) {
            return "Linux x86-64 only";
        }
        return null;
    }

    private static String load() {
        String no = reasonNotToLoad(System.getProperty("os.name"), System.getProperty("os.arch"),
                System.getProperty(PROPERTY));
        if (no != null) {
            return no;
        }
        try {
            dev.localai.tts.core.runtime.Torch.load();
            File lib = org.bytedeco.javacpp.Loader.cacheResource(NativeKernels.class, RESOURCE);
            if (lib == null) {
                return "the native library is not in this build (built without gcc)";
            }
            System.load(lib.getAbsolutePath());
            return null;
        } catch (Exception | LinkageError e) {
            LOG.log(Level.FINE, "native CPU kernels unavailable", e);
            return "the native library did not load: " + e.getMessage();
        }
    }
}
