package dev.localai.tts.core.nn;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps JavaCPP's {@code Pointer.trimMemory()} ({@code malloc_trim(0)}) from running in this process. JavaCV calls it
 * every time an FFmpeg grabber or recorder is released: each reference clip the engine decodes for a voice, and each
 * mp3, Opus, AAC or FLAC response it encodes. {@code malloc_trim(0)} gives every free page inside glibc's heap back to
 * the kernel ({@code madvise(MADV_DONTNEED)}); the models' smaller tensors live in that heap on 2 MiB pages (the
 * flow's packed bf16 matrices, T3's int8 ones: {@code runtime.HugePages}), and a page released beside them splits
 * their huge page into 4 KiB mappings. On the 2-core AMD EPYC VM one mp3 encode made the flow's first streamed block
 * 25-40% slower and one decoded clip 40-80% slower, its oneDNN products 2-4 times slower, and first audio of the
 * requests after a cloned voice 1.1-1.7 s instead of 0.85 s, for as long as the process ran
 * (docs/performance.md, "Twenty-eighth round").
 *
 * <p>{@link #install()} rebinds that native method (JNI {@code RegisterNatives}, from this project's library) to one
 * that only counts the call and returns false, as {@code trimMemory()} does where there is nothing to trim. glibc
 * still returns the free top of its heap past its trim threshold on its own ({@code runtime.NativeHeap}). The engine
 * installs it before it loads the models; the system property {@code localai.tts.mallocTrim=true} keeps JavaCPP's
 * trimming (an escape hatch for an application that relies on it).
 */
public final class MallocTrimGuard {
    private static final Logger LOG = Logger.getLogger(MallocTrimGuard.class.getName());
    /** The system property that, set to {@code true}, leaves {@code Pointer.trimMemory()} as JavaCPP has it. */
    public static final String PROPERTY = "localai.tts.mallocTrim";
    private static volatile boolean installed;

    private MallocTrimGuard() {}

    /**
     * Turns {@code Pointer.trimMemory()} into a counted no-op, once per process; true when it is one now (installed by
     * this call or an earlier one), false where the native library is missing or {@link #PROPERTY} keeps the trimming.
     * Never throws.
     */
    public static synchronized boolean install() {
        if (installed) {
            return true;
        }
        if (keepsTrimming(System.getProperty(PROPERTY)) || !NativeKernels.available()) {
            return false;
        }
        try {
            // initialized first: its static initializer loads JavaCPP's own library, which must not come after this
            Class<?> pointer = Class.forName("org.bytedeco.javacpp.Pointer", true,
                    MallocTrimGuard.class.getClassLoader());
            int rc = install0(pointer);
            installed = rc == 0;
            if (!installed) {
                LOG.fine(() -> "JavaCPP's Pointer.trimMemory() left as it is: RegisterNatives returned " + rc);
            }
        } catch (UnsatisfiedLinkError | ClassNotFoundException | RuntimeException e) {
            // e.g. a native library built before this entry point existed
            LOG.log(Level.FINE, "JavaCPP's Pointer.trimMemory() left as it is", e);
        }
        return installed;
    }

    /** Whether {@link #install()} has turned the trimming off. */
    public static boolean installed() {
        return installed;
    }

    /** Calls of {@code Pointer.trimMemory()} skipped since {@link #install()} (0 before it). */
    public static long skipped() {
        return installed ? skipped0() : 0;
    }

    /** Whether the property's value asks to keep JavaCPP's trimming (pure logic). */
    static boolean keepsTrimming(String property) {
        return property != null && property.trim().equalsIgnoreCase("true");
    }

    private static native int install0(Class<?> pointer);

    private static native long skipped0();
}
