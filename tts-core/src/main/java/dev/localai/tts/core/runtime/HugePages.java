package dev.localai.tts.core.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Transparent huge pages for the models' memory: whether the kernel offers them and whether this process asked for
 * them. Most Linux distributions set the kernel's mode to {@code madvise}, in which only memory the allocator marks
 * gets 2 MiB pages; two switches in the environment mark it, and both must be there when the process starts:
 * <ul>
 *   <li>{@code THP_MEM_ALLOC_ENABLE=1}: LibTorch's CPU allocator aligns tensors of 2 MiB or more to 2 MiB and marks
 *       them (the int8 and fp16 matrices of T3, the large activations);</li>
 *   <li>{@code GLIBC_TUNABLES=glibc.malloc.hugetlb=1} (glibc 2.35 or newer; older ones ignore it): glibc marks its
 *       own heap, where the smaller tensors live (the flow's bf16 weights, HiFT's).</li>
 * </ul>
 * A fresh process faults every page of its model in once, at load and in its first request. On the 2-core AMD EPYC
 * VM, where a 4 KiB page fault costs about 10 µs, a model load took 372 000 faults and 5.9 s, and with both switches
 * 67 000-68 000 and 3.0-4.2 s (34 000-38 000 and 2.5-3.3 s with the weights read into their tensors, as the
 * checkpoint's {@code StateDict} does where {@link #forTensors}); {@code tts speak} of 8.9 s of audio took 10.4-10.9 s
 * of wall time against 12.7-14.9, its one cold request's RTF 0.59-0.73 against 0.74-0.90; a warm engine's figures
 * stayed within the VM's spread (docs/performance.md, "Eighteenth round"). {@code ./tts}, the bench scripts, the test
 * JVMs and the server image set both unless the environment already says otherwise; an application that embeds the
 * SDK is told at start ({@link #hint}).
 */
public final class HugePages {
    /** LibTorch's switch (c10's CPU allocator reads it once, at its first allocation). */
    public static final String LIBTORCH = "THP_MEM_ALLOC_ENABLE";
    /** glibc's tunable, within {@code GLIBC_TUNABLES}. */
    public static final String GLIBC = "glibc.malloc.hugetlb";
    private static final Path KERNEL = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    private HugePages() {}

    /** The kernel's mode ({@code always}, {@code madvise} or {@code never}), or {@code ?} where it says none. */
    public static String kernelMode() {
        try {
            return kernelMode(Files.readString(KERNEL));
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** The bracketed choice of the kernel's {@code enabled} file, e.g. {@code always [madvise] never} (pure logic). */
    static String kernelMode(String enabled) {
        int open = enabled.indexOf('[');
        int close = enabled.indexOf(']', open + 1);
        return open < 0 || close < 0 ? "?" : enabled.substring(open + 1, close).trim();
    }

    /** Whether {@code env} asks LibTorch's allocator for huge pages ({@code THP_MEM_ALLOC_ENABLE=1}). */
    static boolean libtorch(Map<String, String> env) {
        String v = env.get(LIBTORCH);
        return v != null && v.trim().equals("1");
    }

    /** Whether {@code env} asks glibc for huge pages ({@code glibc.malloc.hugetlb} 1, or 2: hugetlbfs pages). */
    static boolean glibc(Map<String, String> env) {
        String value = Torch.glibcTunable(env, GLIBC);
        return "1".equals(value) || "2".equals(value);
    }

    /**
     * Whether LibTorch's large tensors get huge pages in this process: the kernel gives them to all memory
     * ({@code always}), or to marked memory ({@code madvise}) and LibTorch was asked to mark its tensors.
     */
    public static boolean forTensors() {
        return forTensors(System.getenv(), kernelMode());
    }

    static boolean forTensors(Map<String, String> env, String mode) {
        return "always".equals(mode) || "madvise".equals(mode) && libtorch(env);
    }

    /** What this process asked for, with the kernel's mode: e.g. {@code madvise: libtorch+glibc}, for reports. */
    public static String describe() {
        return describe(System.getenv(), kernelMode());
    }

    static String describe(Map<String, String> env, String mode) {
        boolean l = libtorch(env);
        boolean g = glibc(env);
        return mode + ": " + (l && g ? "libtorch+glibc" : l ? "libtorch" : g ? "glibc" : "not requested");
    }

    /**
     * The start-up hint for a Linux process whose kernel gives huge pages only where asked ({@code madvise}) and whose
     * environment does not ask for both kinds (pure logic), or null. Under {@code always} every large mapping gets
     * them anyway; under {@code never} nothing does.
     */
    static String hint(Map<String, String> env, String os, String mode) {
        if (os == null || !os.startsWith("Linux") || !"madvise".equals(mode) || libtorch(env) && glibc(env)) {
            return null;
        }
        return "transparent huge pages are not requested for the models' memory: a fresh process then faults it in "
                + "4 KiB at a time (model load measured 5.9 s against 2.5-3.3 s with them, on a 2-core VM); start the JVM "
                + "with THP_MEM_ALLOC_ENABLE=1 and GLIBC_TUNABLES=glibc.malloc.hugetlb=1 in its environment "
                + "(./tts and the server image do)";
    }

    /** {@link #hint} for this process. */
    static String hint() {
        return hint(System.getenv(), System.getProperty("os.name"), kernelMode());
    }
}
