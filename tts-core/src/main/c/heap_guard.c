/*
 * nn.MallocTrimGuard's native half: rebinds JavaCPP's Pointer.trimMemory() (glibc's malloc_trim(0)) to a function that
 * only counts the call. JavaCV calls it whenever an FFmpeg grabber or recorder is released (each reference clip
 * decoded, each mp3 / Opus / AAC / FLAC response encoded), and malloc_trim(0) hands every free page inside glibc's
 * heap back to the kernel with madvise(MADV_DONTNEED). The models' smaller tensors (the flow's packed bf16 matrices,
 * T3's int8 ones) live in that heap on 2 MiB pages; a page released inside one of those splits it into 4 KiB
 * mappings, and on the 2-core AMD EPYC VM the flow's products then ran 2-4 times slower, for minutes, after a single
 * clip decoded or encoded (docs/performance.md, "Twenty-eighth round").
 */
#include <jni.h>
#include <stdatomic.h>

static atomic_long skipped = 0;

static jboolean JNICALL no_trim(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    atomic_fetch_add_explicit(&skipped, 1, memory_order_relaxed);
    return JNI_FALSE;
}

/* 0 when Pointer.trimMemory() now runs no_trim; JNI's error code otherwise (a pending exception is cleared) */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_MallocTrimGuard_install0(JNIEnv* env, jclass cls,
        jclass pointer) {
    (void) cls;
    JNINativeMethod m = {"trimMemory", "()Z", (void*) no_trim};
    jint rc = (*env)->RegisterNatives(env, pointer, &m, 1);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        return rc != 0 ? rc : -1;
    }
    return rc;
}

JNIEXPORT jlong JNICALL Java_dev_localai_tts_core_nn_MallocTrimGuard_skipped0(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return atomic_load_explicit(&skipped, memory_order_relaxed);
}
