/*
 * nn.ThreadPools' native half: hands back the calling thread's OpenMP worker threads (libgomp keeps one pool per
 * thread that has opened a parallel region, until that thread exits). libgomp counts every pooled thread of the
 * process, idle or not, and once that count exceeds the CPUs it may use it stops spinning at barriers and region
 * starts and sleeps on futexes instead (its "throttled" spin count of 100), which on a 2-CPU machine made T3's decode
 * steps 14-35% slower and the flow 9-20% slower as soon as a second thread had ever computed (docs/performance.md,
 * "Tenth round").
 */
#include <jni.h>
#include <omp.h>

/* 0 when the pool was released (or there was none), -1 when the caller is inside a parallel region. */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_ThreadPools_release0(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    if (omp_in_parallel()) {
        return -1;
    }
    return omp_pause_resource_all(omp_pause_soft) == 0 ? 0 : -1;
}

